"""The whole signal table (docs/lifecycle.md): in single-command mode every
catchable signal reaches the command, --stop-signal standing in for every
SIGTERM; in configuration mode the ones without a meaning are logged and
never fatal, also as PID 1 where a default action would make them vanish.
A Python recorder notes each signal it gets; every wait is bounded."""
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import BIN, Run, write_config

MODES = [pytest.param(False, id="plain"), pytest.param(True, id="pid1")]

RECORDER = r"""
import os, signal, sys, time
out = sys.argv[1]
def note(sig, frame):
    with open(out, "a") as f:
        f.write(signal.Signals(sig).name + "\n")
    if sig in (signal.SIGTERM, signal.SIGUSR2) and os.path.exists(out + ".exit"):
        sys.exit(0)
for s in signal.Signals:
    if s not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD):
        try:
            signal.signal(s, note)
        except (OSError, ValueError):
            pass
open(out + ".ready", "w").close()
while True:
    time.sleep(1)
"""


def recorded(path):
    try:
        with open(path) as f:
            return f.read().split()
    except FileNotFoundError:
        return []


def wait_file(path, timeout=10):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)  # polling a file the recorder creates, bounded


def wait_recorded(path, names, timeout=10):
    deadline = time.monotonic() + timeout
    while recorded(path) != names:
        assert time.monotonic() < deadline, (recorded(path), names)
        time.sleep(0.01)  # polling a file the recorder appends to, bounded


@pytest.mark.parametrize("pid1", MODES)
def test_single_command_forwards_pipe_ttin_ttou_and_faults(tmp_path, pid1):
    out = str(tmp_path / "got")
    script = tmp_path / "rec.py"
    script.write_text(RECORDER)
    sent = [signal.SIGPIPE, signal.SIGTTIN, signal.SIGTTOU, signal.SIGSEGV, signal.SIGBUS,
            signal.SIGFPE, signal.SIGILL, signal.SIGTRAP, signal.SIGSYS, signal.SIGABRT]
    with Run(["run", "--", sys.executable, str(script), out], pid1=pid1) as r:
        wait_file(out + ".ready")
        for sig in sent:
            r.signal(sig)
            wait_recorded(out, [s.name for s in sent[:sent.index(sig) + 1]])
        assert r.proc.poll() is None  # none of them was fatal to the supervisor
        open(out + ".exit", "w").close()
        r.signal(signal.SIGTERM)
        assert r.wait(15) == 0, r.err.text()


def test_stop_signal_stands_in_for_every_sigterm(tmp_path):
    out = str(tmp_path / "got")
    script = tmp_path / "rec.py"
    script.write_text(RECORDER)
    # A grace the test never reaches: the recorder ends by itself at the end.
    with Run(["run", "--stop-signal", "SIGUSR1", "--grace", "60s", "--", sys.executable,
              str(script), out]) as r:
        wait_file(out + ".ready")
        r.signal(signal.SIGTERM)
        wait_recorded(out, ["SIGUSR1"])
        r.signal(signal.SIGTERM)
        wait_recorded(out, ["SIGUSR1", "SIGUSR1"])
        r.signal(signal.SIGINT)
        wait_recorded(out, ["SIGUSR1", "SIGUSR1", "SIGINT"])
        # The end: SIGUSR2 is forwarded as it is, and then ends the recorder.
        open(out + ".exit", "w").close()
        r.signal(signal.SIGUSR2)
        assert r.wait(15) == 0, r.err.text()


@pytest.mark.parametrize("pid1", MODES)
def test_config_mode_logs_signals_without_a_meaning_and_survives(tmp_path, pid1):
    cfg = '[supervisor]\nhealth_listen = ""\ncontrol_socket = ""\n[services.s]\ncommand = ["sleep", "1000"]\n'
    sent = [signal.SIGPIPE, signal.SIGTTIN, signal.SIGTTOU, signal.SIGSEGV, signal.SIGBUS,
            signal.SIGFPE, signal.SIGILL, signal.SIGTRAP, signal.SIGSYS, signal.SIGABRT,
            signal.SIGALRM]
    if pid1:
        sent += [signal.SIGTSTP, signal.SIGCONT]  # a default action would drop them unseen
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        r.err.wait_for(r"s: started", 10)
        for sig in sent:
            r.signal(sig)
            r.err.wait_for(rf"received {sig.name}; ignoring it", 10)
        assert r.proc.poll() is None
        r.signal(signal.SIGTERM)
        assert r.wait(15) == 0, r.err.text()


def test_an_invalid_health_listen_option_is_a_usage_error(tmp_path):
    cfg = '[supervisor]\ncontrol_socket = ""\n[services.s]\ncommand = ["sleep", "1000"]\n'
    res = subprocess.run([BIN, "run", "-c", write_config(tmp_path, cfg), "--health-listen",
                          "nonsense"], capture_output=True, text=True, timeout=10)
    assert res.returncode == 2, res.stderr
    assert "--health-listen: invalid address 'nonsense'" in res.stderr
    assert "started" not in res.stderr  # nothing was started


def test_run_with_a_file_and_an_empty_command_runs_the_services(tmp_path):
    """ENTRYPOINT ["supervisor", "run", "-c", FILE, "--"] with an empty CMD."""
    cfg = ('[supervisor]\nhealth_listen = ""\ncontrol_socket = ""\n'
           '[services.s]\ncommand = ["sleep", "1000"]\n')
    with Run(["run", "-c", write_config(tmp_path, cfg), "--"]) as r:
        r.err.wait_for(r"s: started", 10)
        r.signal(signal.SIGTERM)
        assert r.wait(15) == 0, r.err.text()
    res = subprocess.run([BIN, "run", "--"], capture_output=True, text=True, timeout=10)
    assert res.returncode == 2 and "needs a COMMAND" in res.stderr, res.stderr
