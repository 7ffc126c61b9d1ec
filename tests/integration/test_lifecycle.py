"""The lifecycle engine end to end (docs/lifecycle.md): the real binary, real child
processes, as a plain process and as PID 1 of a fresh PID namespace. Events
are recorded by the services themselves with CLOCK_MONOTONIC stamps; the
tests assert order and time bounds."""
import os
import signal
import time

import pytest

from conftest import Run, helper, read_events, wait_events, write_config

STAMP = helper("stamp")
MODES = [pytest.param(False, id="plain"), pytest.param(True, id="pid1")]


def graceful(name, events, extra=""):
    """A bash service that records 'NAME started' and, on SIGTERM, 'NAME stopped'."""
    script = (f"trap '{STAMP} {events} {name} stopped; exit 0' TERM; "
              f"{STAMP} {events} {name} started; sleep infinity & wait")
    return f'[services.{name}]\ncommand = ["bash", "-c", "{script}"]\n{extra}\n'


def times(evts, name, what):
    return [int(e[2]) / 1e9 for e in evts if e[0] == name and e[1] == what]


@pytest.mark.parametrize("pid1", MODES)
def test_reverse_order_stop_of_a_chain(tmp_path, events, pid1):
    cfg = ("[supervisor]\nhealth_listen = \"\"\n" +
           graceful("db", events) +
           graceful("api", events, 'depends_on = ["db"]') +
           graceful("web", events, 'depends_on = ["api"]'))
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        wait_events(events, 3, what="started")
        r.signal(signal.SIGTERM)
        assert r.wait() == 0
    evts = read_events(events)
    stopped = [e[0] for e in evts if e[1] == "stopped"]
    # Without readiness probes "ready" means "exec succeeded", so the start
    # order shows in the supervisor's own log, not in the scripts' stamps.
    started = [l.split(":")[1].strip() for l in r.err.text().splitlines() if l.endswith(")") and ": started (pid" in l]
    assert started == ["db", "api", "web"]
    assert stopped == ["web", "api", "db"]
    # Each dependency got its signal only after its dependent had exited.
    assert times(evts, "web", "stopped")[0] < times(evts, "api", "stopped")[0] < times(evts, "db", "stopped")[0]


@pytest.mark.parametrize("pid1", MODES)
def test_service_ignoring_sigterm_is_killed_after_grace_with_grandchildren(tmp_path, events, pid1):
    cfg = f"""
[supervisor]
health_listen = ""
[services.stubborn]
command = ["{helper('stubborn')}", "{events}", "stubborn", "--grandchild"]
stop_grace = "1s"
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        wait_events(events, 2, what="started")
        t0 = r.signal(signal.SIGTERM)
        code = r.wait()
        elapsed = time.monotonic() - t0
    assert code == 1, "a shutdown that had to SIGKILL exits 1"
    assert 1.0 <= elapsed < 4.0, elapsed
    assert "killed after grace" in r.err.text()
    # No process of the service survived (grandchild included).
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            assert events.encode() not in cmd, f"left behind: {cmd!r}"


@pytest.mark.parametrize("pid1", MODES)
def test_sigterm_during_startup_stops_at_once(tmp_path, events, pid1):
    cfg = f"""
[supervisor]
health_listen = ""
[services.db]
command = ["bash", "-c", "{STAMP} {events} db started; sleep infinity & wait"]
[services.db.ready]
exec = ["false"]
interval = "100ms"
start_timeout = "60s"
{graceful("api", events, 'depends_on = ["db"]')}
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        wait_events(events, 1, "db", "started")
        t0 = r.signal(signal.SIGTERM)
        code = r.wait()
        elapsed = time.monotonic() - t0
    assert code == 0
    assert elapsed < 3.0
    assert [e[0] for e in read_events(events)] == ["db"], "api must never start"


@pytest.mark.parametrize("pid1", MODES)
def test_second_sigint_kills_at_once(tmp_path, events, pid1):
    cfg = f"""
[supervisor]
health_listen = ""
[services.stubborn]
command = ["{helper('stubborn')}", "{events}", "stubborn"]
stop_grace = "60s"
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        wait_events(events, 1, what="started")
        r.signal(signal.SIGINT)
        r.err.wait_for(r"stubborn: stopping")
        t0 = r.signal(signal.SIGINT)
        code = r.wait(10)
        elapsed = time.monotonic() - t0
    assert code == 1
    assert elapsed < 2.0


def test_restart_backoff_grows_and_max_restarts_ends_the_run(tmp_path, events):
    cfg = f"""
[supervisor]
health_listen = ""
[services.flaky]
command = ["bash", "-c", "{STAMP} {events} flaky run; exit 3"]
restart = "on-failure"
restart_delay = "100ms"
restart_delay_max = "400ms"
max_restarts = 4
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        code = r.wait(20)
    assert code == 3, "the last run's status"
    runs = times(read_events(events), "flaky", "run")
    assert len(runs) == 5
    gaps = [b - a for a, b in zip(runs, runs[1:])]
    for gap, want in zip(gaps, [0.1, 0.2, 0.4, 0.4]):
        assert want <= gap < want + 0.5, gaps
    assert "restarting in 100ms" in r.err.text()
    assert "restarting in 200ms" in r.err.text()


@pytest.mark.parametrize("pid1", MODES)
def test_critical_exit_status_ends_the_run(tmp_path, events, pid1):
    cfg = ("[supervisor]\nhealth_listen = \"\"\n" + graceful("db", events) + f"""
[services.job]
command = ["bash", "-c", "{STAMP} {events} job started; exit 7"]
depends_on = ["db"]
""")
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        code = r.wait()
    assert code == 7
    evts = read_events(events)
    assert ("db", "stopped") in [(e[0], e[1]) for e in evts]


def test_exec_failure_is_reported_at_once(tmp_path):
    cfg = """
[supervisor]
health_listen = ""
[services.api]
command = ["/usr/bin/apii", "--port", "8080"]
"""
    t0 = time.monotonic()
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        code = r.wait()
    assert time.monotonic() - t0 < 3
    assert code == 1
    assert "api: cannot execute /usr/bin/apii: No such file or directory" in r.err.text()


def test_subreaper_adopts_and_sweeps_orphans_when_not_pid1(tmp_path, events):
    # The service leaves a daemon behind in a session of its own: as a
    # subreaper the supervisor adopts it, and the final sweep stops it.
    cfg = f"""
[supervisor]
health_listen = ""
[services.daemonizer]
command = ["bash", "-c", "setsid bash -c 'trap \\"{STAMP} {events} orphan stopped; exit 0\\" TERM; {STAMP} {events} orphan $$; sleep infinity & wait' & {STAMP} {events} parent done; sleep infinity & wait"]
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        r.err.wait_for(r"daemonizer: ready")
        deadline = time.monotonic() + 5
        orphan_pid = None
        while time.monotonic() < deadline and orphan_pid is None:
            for e in read_events(events):
                if e[0] == "orphan" and e[1] != "stopped":
                    orphan_pid = int(e[1])
            time.sleep(0.01)
        assert orphan_pid
        r.signal(signal.SIGTERM)
        assert r.wait() == 0
    assert ("orphan", "stopped") in [(e[0], e[1]) for e in read_events(events)]
    assert not os.path.exists(f"/proc/{orphan_pid}")


def test_poweroff_inside_a_pid_namespace(tmp_path, events):
    cfg = "[supervisor]\nhealth_listen = \"\"\non_exit = \"poweroff\"\n" + graceful("db", events)
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=True) as r:
        wait_events(events, 1, "db", "started")
        r.signal(signal.SIGTERM)
        code = r.wait()
    # reboot(RB_POWER_OFF) in a PID namespace ends its init with SIGINT.
    assert code in (-signal.SIGINT, 128 + signal.SIGINT), code
    assert ("db", "stopped") in [(e[0], e[1]) for e in read_events(events)]


def test_reboot_inside_a_pid_namespace(tmp_path, events):
    cfg = "[supervisor]\nhealth_listen = \"\"\non_exit = \"reboot\"\n" + graceful("db", events)
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=True) as r:
        wait_events(events, 1, "db", "started")
        r.signal(signal.SIGTERM)
        code = r.wait()
    assert code in (-signal.SIGHUP, 128 + signal.SIGHUP), code
