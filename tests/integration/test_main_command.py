"""`supervisor run -c FILE -- COMMAND` (docs/deploy.md): the services
start first, in dependency order, and COMMAND runs once all are ready, with
the terminal and stdio inherited; its end stops the services in reverse order
and its status is the supervisor's. SIGTERM stops COMMAND first (after
drain_delay), then the services; a critical service that fails first stops
COMMAND and gives the exit code. Services record what happens to them with
CLOCK_MONOTONIC stamps; every wait is bounded."""
import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

from conftest import BIN, Run, helper, read_events, wait_events, write_config

STAMP = helper("stamp")
CATCHER = helper("catcher")
MODES = [pytest.param(False, id="plain"), pytest.param(True, id="pid1")]


def stack(events, drain="0s", db_extra=""):
    """db (ready once it has recorded its start) and a oneshot after it."""
    return f"""
[supervisor]
health_listen = ""
control_socket = ""
drain_delay = "{drain}"
[services.db]
command = ["{CATCHER}", "{events}", "db"]
{db_extra}
[services.db.ready]
exec = ["grep", "-q", "^db started", "{events}"]
interval = "50ms"
[services.migrate]
type = "oneshot"
depends_on = ["db"]
command = "sleep 0.2; {STAMP} {events} migrate done"
"""


def times(evts, name, what):
    return [int(e[-1]) for e in evts if e[0] == name and e[1] == what]


@pytest.mark.parametrize("pid1", MODES)
def test_command_runs_after_every_service_is_ready_and_its_status_is_the_exit_code(tmp_path, events, pid1):
    path = write_config(tmp_path, stack(events))
    with Run(["run", "-c", path, "--", "sh", "-c", f"{STAMP} {events} main started; echo plain line; exit 7"],
             pid1=pid1) as r:
        code = r.wait(20)
    evts = read_events(events)
    assert code == 7, r.err.text()
    db_started, migrate_done = times(evts, "db", "started")[0], times(evts, "migrate", "done")[0]
    main_started = times(evts, "main", "started")[0]
    assert db_started < migrate_done < main_started, evts
    # Then the services stop: db got its SIGTERM after the command had ended.
    assert times(evts, "db", "SIGTERM"), evts
    # The command's output is inherited: no prefix.
    assert "plain line" in r.out.text().splitlines(), r.out.text()
    assert "the main command exited with status 7; stopping the services" in r.err.text()


@pytest.mark.parametrize("pid1", MODES)
def test_sigterm_stops_the_command_after_drain_delay_then_the_services(tmp_path, events, pid1):
    path = write_config(tmp_path, stack(events, drain="600ms"))
    with Run(["run", "-c", path, "--", CATCHER, events, "main"], pid1=pid1) as r:
        wait_events(events, 1, "main", "started", timeout=15)
        sent = time.monotonic_ns()
        r.signal(signal.SIGTERM)
        code = r.wait(20)
    evts = read_events(events)
    main_term, db_term = times(evts, "main", "SIGTERM")[0], times(evts, "db", "SIGTERM")[0]
    assert main_term - sent >= 550_000_000, (main_term - sent, evts)  # after the drain
    assert main_term < db_term, evts  # the command first, then the services
    assert code == 0, r.err.text()  # the catcher exits 0 on SIGTERM: its status


@pytest.mark.parametrize("pid1", MODES)
def test_a_critical_service_that_fails_stops_the_command_and_gives_the_exit_code(tmp_path, events, pid1):
    cfg = f"""
[supervisor]
health_listen = ""
control_socket = ""
[services.worker]
command = "{STAMP} {events} worker up; sleep 0.5; exit 4"
"""
    path = write_config(tmp_path, cfg)
    with Run(["run", "-c", path, "--", CATCHER, events, "main"], pid1=pid1) as r:
        code = r.wait(20)
    evts = read_events(events)
    assert times(evts, "main", "SIGTERM"), evts
    assert code == 4, r.err.text()


def test_a_command_that_cannot_be_executed_exits_127_and_stops_the_services(tmp_path, events):
    path = write_config(tmp_path, stack(events))
    with Run(["run", "-c", path, "--", str(tmp_path / "no-such-command")]) as r:
        code = r.wait(20)
    assert code == 127, r.err.text()
    assert "no-such-command" in r.err.text()
    assert times(read_events(events), "db", "SIGTERM")


def test_the_command_gets_the_terminal(tmp_path, events):
    """As s6-overlay's CMD under `docker run -it`: stdin is the terminal and
    the command's group holds its foreground, so it reads what is typed."""
    import pty
    path = write_config(tmp_path, stack(events))
    script = ("import os, sys; print('foreground', os.tcgetpgrp(0) == os.getpgrp(), flush=True); "
              "print('got', sys.stdin.readline().strip(), flush=True)")
    master, slave = pty.openpty()
    p = subprocess.Popen([BIN, "run", "-c", path, "--", sys.executable, "-c", script],
                         stdin=slave, stdout=slave, stderr=subprocess.PIPE, start_new_session=True,
                         preexec_fn=lambda: __import__("fcntl").ioctl(0, __import__("termios").TIOCSCTTY, 0))
    os.close(slave)
    out = b""
    try:
        deadline = time.monotonic() + 20
        sent = False
        # Whole lines only: the terminal echoes what is typed in between.
        while time.monotonic() < deadline and not re.search(rb"got [^\r\n]*\r?\n", out):
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    break
            if not sent and re.search(rb"foreground (True|False)\r?\n", out):
                os.write(master, b"hello\n")
                sent = True
        code = p.wait(20)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        os.close(master)
    text = out.decode(errors="replace")
    assert "foreground True" in text, text
    assert "got hello" in text, text
    assert code == 0, p.stderr.read().decode()


def test_a_reload_keeps_the_command_running(tmp_path, events):
    sock = tmp_path / "ctl.sock"
    base = stack(events).replace('control_socket = ""', f'control_socket = "{sock}"')
    path = write_config(tmp_path, base)
    with Run(["run", "-c", path, "--", CATCHER, events, "main"]) as r:
        wait_events(events, 1, "main", "started", timeout=15)
        write_config(tmp_path, base + f'[services.extra]\ncommand = ["{CATCHER}", "{events}", "extra"]\n')
        res = subprocess.run([BIN, "reload", "--socket", str(sock)], capture_output=True, text=True, timeout=20)
        assert res.returncode == 0, res.stderr
        assert "added: extra" in res.stdout, res.stdout
        wait_events(events, 1, "extra", "started", timeout=10)
        r.signal(signal.SIGTERM)
        assert r.wait(20) == 0, r.err.text()
    evts = read_events(events)
    assert len(times(evts, "main", "started")) == 1, evts  # never restarted
