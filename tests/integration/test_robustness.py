"""A bad service never takes the supervisor down (docs/lifecycle.md): exec
failures, crash loops, floods, closed output, signals, shutdown corner cases.
Services record what happens to them with CLOCK_MONOTONIC stamps (helpers/
stamp, helpers/catcher); time.monotonic() is the same clock, so stamps and the
test's own signal times compare directly. Every wait is bounded."""
import os
import pwd
import signal
import subprocess
import threading
import time

import pytest

from conftest import (BIN, Run, Stream, free_port, helper, http_get, read_events, wait_events,
                      write_config, zombies_of)

STAMP = helper("stamp")
CATCHER = helper("catcher")
STUBBORN = helper("stubborn")
MODES = [pytest.param(False, id="plain"), pytest.param(True, id="pid1")]
HEAD = '[supervisor]\nhealth_listen = ""\n'
FORWARDED = [signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGQUIT, signal.SIGWINCH]


def catcher(name, events, *args, extra=""):
    """A service that stamps every signal it gets and exits 0 on SIGTERM."""
    argv = ", ".join(f'"{a}"' for a in [CATCHER, events, name, *args])
    grace = "" if "stop_grace" in extra else 'stop_grace = "3s"\n'
    return f"[services.{name}]\ncommand = [{argv}]\n{grace}{extra}\n"


def times(evts, name, what):
    return [int(e[2]) / 1e9 for e in evts if e[0] == name and e[1] == what]


def whats(evts, name):
    return [e[1] for e in evts if e[0] == name]


def round_trip(r, events, name, sig=signal.SIGUSR1, timeout=2.0):
    """Sends `sig` to the supervisor and waits until service `name` got it
    (forwarded); returns the delay. Proves the loop is alive and responsive."""
    signame = signal.Signals(sig).name
    before = len([e for e in read_events(events) if e[0] == name and e[1] == signame])
    t0 = time.monotonic()  # before the kill: delivery may beat its return
    r.signal(sig)
    evts = wait_events(events, before + 1, name, signame, timeout=timeout)
    return times(evts, name, signame)[before] - t0


def left_behind(marker):
    """Processes whose command line holds `marker` (e.g. a test's events path)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read()
                with open(f"/proc/{pid}/stat", "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if marker.encode() in cmd and state != b"Z":
                found.append((int(pid), cmd))
    return found


# --- exec failures --------------------------------------------------------

def exec_failure_cases(tmp_path):
    noexec = tmp_path / "not-executable"
    noexec.write_text("#!/bin/sh\nexit 0\n")
    noexec.chmod(0o644)
    return {
        "missing": ('command = ["/nonexistent/bin/apid"]',
                    "svc: cannot execute /nonexistent/bin/apid: No such file or directory"),
        "not-in-path": ('command = ["no-such-program-4242"]',
                        "svc: cannot execute no-such-program-4242: No such file or directory"),
        "not-executable": (f'command = ["{noexec}"]',
                           f"svc: cannot execute {noexec}: Permission denied"),
        "bad-workdir": ('command = ["true"]\nworkdir = "/nonexistent/dir"',
                        "svc: cannot change directory to /nonexistent/dir: No such file or directory"),
        "unknown-user": ('command = ["true"]\nuser = "no-such-user-4242"',
                         "svc: cannot start: unknown user 'no-such-user-4242'"),
    }


@pytest.mark.parametrize("case", ["missing", "not-in-path", "not-executable", "bad-workdir", "unknown-user"])
def test_exec_failure_is_named_and_exits_1(tmp_path, events, case):
    body, message = exec_failure_cases(tmp_path)[case]
    cfg = HEAD + catcher("other", events) + f"[services.svc]\n{body}\n"
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        # "other" starts with no dependency; whether it did before the
        # failure stopped the run is a race, so don't demand it.
        code = r.wait(5)
    assert code == 1, r.err.text()
    assert message in r.err.text()
    assert r.err.text().count(message) == 1, "reported once, never retried"
    evts = read_events(events)
    if ("other", "started") in [(e[0], e[1]) for e in evts]:
        assert ("other", "SIGTERM") in [(e[0], e[1]) for e in evts], "the rest was stopped cleanly"
    assert not left_behind(events)


def test_non_critical_exec_failure_leaves_the_rest_running(tmp_path, events):
    cfg = HEAD + catcher("other", events) + '[services.svc]\ncommand = ["/nonexistent/bin/apid"]\ncritical = false\n'
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        r.err.wait_for(r"svc: cannot execute /nonexistent/bin/apid: No such file or directory", 5)
        wait_events(events, 1, "other", "started")
        deadline = time.monotonic() + 3
        while zombies_of(r.sv_pid):  # the failed child is reaped, not left a zombie
            assert time.monotonic() < deadline, "the failed child stays a zombie"
            time.sleep(0.01)  # polling /proc, bounded
        assert round_trip(r, events, "other") < 2.0
        t0 = r.signal(signal.SIGTERM)
        assert r.wait(5) == 0, r.err.text()
        assert time.monotonic() - t0 < 3
    assert whats(read_events(events), "other") == ["started", "SIGUSR1", "SIGTERM"]


# --- crash loops and backoff ------------------------------------------------

def test_crash_loop_of_a_non_critical_service(tmp_path, events):
    cfg = HEAD + f"""
[services.crashy]
command = "{STAMP} {events} crashy run; kill -SEGV $$"
restart = "always"
restart_delay = "1ms"
restart_delay_max = "5ms"
critical = false
[services.crashy2]
command = "{STAMP} {events} crashy2 run; exit 3"
restart = "on-failure"
restart_delay = "1ms"
restart_delay_max = "2ms"
critical = false
""" + catcher("steady", events)
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        wait_events(events, 60, "crashy", "run", timeout=40)
        wait_events(events, 50, "crashy2", "run", timeout=40)
        # The steady service is untouched and the loop still answers at once.
        assert round_trip(r, events, "steady") < 2.0
        t0 = r.signal(signal.SIGTERM)
        code = r.wait(5)
        elapsed = time.monotonic() - t0
    assert code == 0, r.err.text()
    assert elapsed < 3
    evts = read_events(events)
    assert whats(evts, "steady") == ["started", "SIGUSR1", "SIGTERM"]
    # A run already spawned when SIGTERM came may stamp just after it; no
    # new run may start once the shutdown began.
    for name in ("crashy", "crashy2"):
        assert len([t for t in times(evts, name, "run") if t > t0]) <= 1, name
    assert "internal error" not in r.err.text()


@pytest.mark.parametrize("pid1", MODES)
def test_sigterm_while_a_service_is_in_backoff(tmp_path, events, pid1):
    cfg = HEAD + f"""
[services.flaky]
command = "{STAMP} {events} flaky run; exit 1"
restart = "always"
restart_delay = "2s"
""" + catcher("steady", events)
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        r.err.wait_for(r"flaky: restarting in 2s", 5)
        wait_events(events, 1, "steady", "started")
        t0 = r.signal(signal.SIGTERM)
        code = r.wait(5)
        elapsed = time.monotonic() - t0
    assert code == 0, r.err.text()
    assert elapsed < 1.5, "shutdown does not wait for the back-off"
    evts = read_events(events)
    runs = times(evts, "flaky", "run")
    assert len(runs) == 1 and runs[0] < t0, runs
    after = r.err.text().split("received SIGTERM", 1)[1]
    assert "flaky: started" not in after, after


# --- signals ------------------------------------------------------------------

@pytest.mark.parametrize("pid1", MODES)
def test_forwarded_signals_reach_every_group_and_grandchildren(tmp_path, events, pid1):
    cfg = HEAD + catcher("a", events, "--grandchild") + catcher("b", events, "--grandchild")
    names = ["a", "a-grandchild", "b", "b-grandchild"]
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        wait_events(events, 4, what="started")
        for sig in FORWARDED:
            t0 = time.monotonic()  # before the kill: delivery may beat its return
            r.signal(sig)
            signame = signal.Signals(sig).name
            evts = wait_events(events, 4, what=signame, timeout=3)
            for n in names:
                got = times(evts, n, signame)
                assert len(got) == 1 and 0 <= got[0] - t0 < 2, (n, signame, got)
        r.signal(signal.SIGTERM)
        assert r.wait(5) == 0, r.err.text()
    evts = read_events(events)
    for n in names:
        assert whats(evts, n) == ["started", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGQUIT", "SIGWINCH", "SIGTERM"], n


def test_configured_stop_signal_is_the_one_received(tmp_path, events):
    cfg = HEAD + catcher("usr", events, "--grandchild", "--exit-on", "SIGUSR1",
                         extra='stop_signal = "SIGUSR1"\nstop_grace = "5s"')
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        wait_events(events, 2, what="started")
        t0 = r.signal(signal.SIGTERM)
        code = r.wait(5)
        elapsed = time.monotonic() - t0
    assert code == 0, r.err.text()
    assert elapsed < 3, "exited on SIGUSR1, not after the 5 s grace"
    evts = read_events(events)
    for n in ("usr", "usr-grandchild"):
        assert whats(evts, n) == ["started", "SIGUSR1"], (n, evts)
    assert "usr: stopping (SIGUSR1, grace 5s)" in r.err.text()


# --- output -----------------------------------------------------------------

@pytest.mark.parametrize("log", ["prefix", "inherit", "null"])
def test_service_closing_stdout_and_stderr_keeps_running(tmp_path, events, log):
    cfg = HEAD + f"""
[services.quiet]
command = ["bash", "-c", "echo before-close; exec >&- 2>&-; exec {CATCHER} {events} quiet"]
log = "{log}"
""" + catcher("other", events)
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        wait_events(events, 1, "quiet", "started")
        wait_events(events, 1, "other", "started")
        # Still alive and still supervised after its output closed.
        for _ in range(3):
            assert round_trip(r, events, "quiet") < 2.0
        assert "quiet: exited" not in r.err.text()
        t0 = r.signal(signal.SIGTERM)
        assert r.wait(5) == 0, r.err.text()
        assert time.monotonic() - t0 < 3
    assert whats(read_events(events), "quiet") == ["started", "SIGUSR1", "SIGUSR1", "SIGUSR1", "SIGTERM"]
    if log == "prefix":
        assert "quiet | before-close" in r.out.text()
    elif log == "inherit":
        assert "before-close" in r.out.text()


class QuietRun(Run):
    """A Run whose stdout goes to a file (or /dev/null) instead of a pipe this
    process would have to read: a flood must not flood the test's memory."""

    def __init__(self, args, stdout_path):
        self.pid1 = False
        env = dict(os.environ, NO_COLOR="1")
        env.pop("NOTIFY_SOCKET", None)
        self._stdout = open(stdout_path, "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([BIN] + args, stdout=self._stdout, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self._stdout.close()
        self.err = Stream(self.proc.stderr)
        done = threading.Thread(target=lambda: None)
        done.start()
        self.out = type("NoStream", (), {"thread": done})()


def rchar(pid):
    with open(f"/proc/{pid}/io") as f:
        return int([l for l in f if l.startswith("rchar:")][0].split()[1])


@pytest.mark.parametrize("log", ["prefix", "null"])
def test_stdout_flood_does_not_starve_the_loop(tmp_path, events, log):
    cfg = HEAD + f"""
[services.flood]
command = ["bash", "-c", "{STAMP} {events} flood started; exec yes 'flooding the supervisor with lines'"]
log = "{log}"
""" + catcher("steady", events)
    with QuietRun(["run", "-c", write_config(tmp_path, cfg)], os.devnull) as r:
        wait_events(events, 1, "flood", "started")
        wait_events(events, 1, "steady", "started")
        read0 = rchar(r.sv_pid)
        t_begin = time.monotonic()
        # About 2 s of flood, measured by signal round trips through the loop.
        delays = []
        while time.monotonic() - t_begin < 2.0:
            # SIGWINCH: `yes` ignores it, as it would die of SIGUSR1.
            delays.append(round_trip(r, events, "steady", signal.SIGWINCH))
            time.sleep(0.1)  # pacing the round trips, not an assertion
        read = rchar(r.sv_pid) - read0
        print(f"\n[log={log}] {len(delays)} round trips during the flood, worst {max(delays) * 1000:.0f}ms; "
              f"supervisor read {read / 1e6:.0f} MB of it")
        assert max(delays) < 1.0, delays
        if log == "prefix":
            assert read > 5e6, "the flood went through the supervisor"
        else:
            assert read < 1e6, "log = null: the supervisor reads none of it"
        t0 = r.signal(signal.SIGTERM)
        assert r.wait(5) == 0, r.err.text()
        assert time.monotonic() - t0 < 3
    assert "internal error" not in r.err.text()


def test_flood_lines_are_whole_and_complete(tmp_path, events):
    # Two services write 100 000 numbered lines each as fast as they can
    # (non-critical: the first one to end must not stop the other): every
    # line comes out whole, prefixed, in order, none lost.
    n = 100000
    cfg = HEAD + f"""
[services.one]
command = "seq 1 {n}"
critical = false
[services.two]
command = "seq 1 {n}"
critical = false
"""
    out = tmp_path / "stdout"
    with QuietRun(["run", "-c", write_config(tmp_path, cfg)], str(out)) as r:
        assert r.wait(30) == 0, r.err.text()
    lines = out.read_text().splitlines()
    for name in ("one", "two"):
        mine = [l for l in lines if l.startswith(f"{name} | ")]
        assert [l[len(name) + 3:] for l in mine] == [str(i) for i in range(1, n + 1)], name
    assert len(lines) == 2 * n, "no stray or torn line"


# --- exit codes and criticality ---------------------------------------------

def test_success_codes_stop_on_failure_restarts(tmp_path, events):
    cfg = HEAD + f"""
[services.java]
command = "{STAMP} {events} java run; exit 143"
restart = "on-failure"
restart_delay = "10ms"
success_codes = [0, 143]
critical = false
[services.control]
command = "{STAMP} {events} control run; exit 3"
restart = "on-failure"
restart_delay = "10ms"
success_codes = [0, 143]
max_restarts = 3
critical = false
""" + catcher("steady", events)
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        # The control (same policy, status 3) is restarted 3 times in ~70 ms;
        # by then a restart of "java" (10 ms) would have shown.
        r.err.wait_for(r"control: not restarting: max_restarts \(3\) used up", 10)
        wait_events(events, 1, "java", "run")
        assert round_trip(r, events, "steady") < 2.0
        r.signal(signal.SIGTERM)
        assert r.wait(5) == 0, r.err.text()
    evts = read_events(events)
    assert len(times(evts, "control", "run")) == 4
    assert len(times(evts, "java", "run")) == 1
    assert "java: restarting" not in r.err.text()


@pytest.mark.parametrize("status", [0, 143])
def test_critical_service_ending_with_a_success_code_exits_0(tmp_path, events, status):
    # docs/configuration.md: success_codes are "counted as success for restart and exit
    # code"; §4: 0 when "every service ended with a success status".
    cfg = HEAD + f"""
[services.app]
command = "exit {status}"
restart = "on-failure"
success_codes = [0, 143]
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        code = r.wait(5)
    assert code == 0, (code, r.err.text())


@pytest.mark.parametrize("pid1", MODES)
def test_non_critical_service_ending_does_not_stop_the_rest(tmp_path, events, pid1):
    cfg = HEAD + """
[services.worker]
command = "exit 5"
critical = false
""" + catcher("steady", events)
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        r.err.wait_for(r"worker: exited with status 5", 5)
        wait_events(events, 1, "steady", "started")
        assert round_trip(r, events, "steady") < 2.0
        assert r.proc.poll() is None
        r.signal(signal.SIGTERM)
        assert r.wait(5) == 0, r.err.text()
    assert whats(read_events(events), "steady") == ["started", "SIGUSR1", "SIGTERM"]


@pytest.mark.parametrize("statuses,want", [((0, 0), 0), ((0, 5), 1)])
def test_all_non_critical_services_ending(tmp_path, statuses, want):
    cfg = HEAD + "".join(f'[services.s{i}]\ncommand = "exit {s}"\ncritical = false\n'
                         for i, s in enumerate(statuses))
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        assert r.wait(5) == want, r.err.text()


@pytest.mark.parametrize("pid1", MODES)
def test_failed_oneshot_blocks_its_dependents(tmp_path, events, pid1):
    cfg = HEAD + f"""
[services.migrate]
type = "oneshot"
command = "{STAMP} {events} migrate run; exit 4"
""" + catcher("api", events, extra='depends_on = ["migrate"]') \
        + catcher("web", events, extra='depends_on = ["api"]') + catcher("other", events)
    t0 = time.monotonic()
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        code = r.wait(5)
    assert code == 4, r.err.text()
    assert time.monotonic() - t0 < 4
    evts = read_events(events)
    assert whats(evts, "migrate") == ["run"]
    assert whats(evts, "api") == [] and whats(evts, "web") == [], "dependents never start"
    if whats(evts, "other"):
        assert whats(evts, "other") == ["started", "SIGTERM"]
    assert "api: not started: dependency 'migrate' failed" in r.err.text()


# --- identity, directory, environment, command string ------------------------

@pytest.mark.parametrize("user", ['"nobody"', "65534", '"65534"'])
def test_user_nobody(tmp_path, user):
    nobody = pwd.getpwnam("nobody")
    assert nobody.pw_uid == 65534, "this test assumes nobody is 65534"
    cfg = HEAD + f"""
[services.who]
command = "echo uid=$(id -u) gid=$(id -g) groups=$(id -G | tr ' ' ,)"
user = {user}
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        assert r.wait(5) == 0, r.err.text()
    line = [l for l in r.out.text().splitlines() if l.startswith("who | uid=")]
    assert line == [f"who | uid={nobody.pw_uid} gid={nobody.pw_gid} groups={nobody.pw_gid}"], r.out.text()


def test_workdir_env_and_string_command(tmp_path):
    work = tmp_path / "work dir"
    work.mkdir()
    cfg = HEAD + f"""
[services.shell]
command = "echo pwd=$(pwd); echo hello | tr a-z A-Z; echo $((6 * 7)); echo FOO=$FOO SHARED=$SHARED INHERITED=$SV_INHERITED"
workdir = "{work}"
env = {{ FOO = "bar baz", SHARED = "from-config" }}
critical = false
[services.argv]
command = ["sh", "-c", "echo argv-pwd=$(pwd) FOO=$FOO; echo $0"]
critical = false
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)],
             env={"SV_INHERITED": "yes", "SHARED": "from-env", "FOO": "outer"}) as r:
        assert r.wait(5) == 0, r.err.text()
    out = r.out.text().splitlines()
    assert f"shell | pwd={work}" in out
    assert "shell | HELLO" in out
    assert "shell | 42" in out
    assert "shell | FOO=bar baz SHARED=from-config INHERITED=yes" in out
    # No workdir: the supervisor's own; no env: the supervisor's environment.
    assert f"argv  | argv-pwd={os.getcwd()} FOO=outer" in out
    assert "argv  | sh" in out


# --- shutdown timing ------------------------------------------------------------

def test_drain_delay_keeps_services_running_after_sigterm(tmp_path, events):
    port = free_port()
    cfg = f'[supervisor]\nhealth_listen = "127.0.0.1:{port}"\ndrain_delay = "1s"\n' + catcher("app", events)
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        wait_events(events, 1, "app", "started")
        endpoint = False
        try:
            endpoint = http_get(port, "/livez", timeout=1)[0] == 200
        except OSError:
            pass
        t0 = r.signal(signal.SIGTERM)
        if endpoint:
            # Best effort (the endpoint is someone else's): during the drain
            # the probe says not ready while the service still runs.
            r.err.wait_for(r"draining", 2)
            assert http_get(port, "/readyz", timeout=1)[0] == 503
        assert r.wait(5) == 0, r.err.text()
        exited = time.monotonic()
    stop = times(read_events(events), "app", "SIGTERM")
    assert len(stop) == 1
    assert 1.0 <= stop[0] - t0 < 2.5, stop[0] - t0
    assert exited - t0 < 3.5


@pytest.mark.parametrize("pid1", MODES)
def test_shutdown_timeout_caps_a_huge_stop_grace(tmp_path, events, pid1):
    cfg = '[supervisor]\nhealth_listen = ""\nshutdown_timeout = "1s"\n' + f"""
[services.stubborn]
command = ["{STUBBORN}", "{events}", "stubborn", "--grandchild"]
stop_grace = "1h"
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        wait_events(events, 2, what="started")
        t0 = r.signal(signal.SIGTERM)
        code = r.wait(10)
        elapsed = time.monotonic() - t0
    assert code == 1, r.err.text()
    assert 1.0 <= elapsed < 3.0, elapsed
    assert "shutdown_timeout (1s) reached" in r.err.text()
    assert not left_behind(events)


@pytest.mark.parametrize("pid1", MODES)
def test_final_sweep_kills_an_orphan_that_ignores_sigterm(tmp_path, events, pid1):
    # The service leaves behind, in a session of its own (so its group's stop
    # does not reach it), a process that records SIGTERM but does not exit.
    # It is adopted, gets SIGTERM in the sweep, SIGKILL after the largest
    # stop_grace (1 s), and the supervisor exits.
    cfg = HEAD + f"""
[services.leaver]
command = "setsid {CATCHER} {events} orphan --exit-on none & exec {CATCHER} {events} leaver"
stop_grace = "1s"
[services.quick]
command = ["{CATCHER}", "{events}", "quick"]
stop_grace = "300ms"
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        wait_events(events, 3, what="started")
        t0 = r.signal(signal.SIGTERM)
        code = r.wait(10)
        elapsed = time.monotonic() - t0
    assert code == 0, r.err.text()
    evts = read_events(events)
    assert whats(evts, "leaver") == ["started", "SIGTERM"]
    assert whats(evts, "orphan") == ["started", "SIGTERM"], "the sweep's SIGTERM came first"
    assert times(evts, "orphan", "SIGTERM")[0] >= times(evts, "leaver", "SIGTERM")[0]
    assert 1.0 <= elapsed < 3.5, elapsed
    assert "sending SIGKILL to the processes left" in r.err.text()
    assert not left_behind(events)
