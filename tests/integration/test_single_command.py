"""`supervisor run -- CMD` as a drop-in for `tini --` (docs/reference.md)."""
import signal
import time

import pytest

from conftest import Run, helper, read_events, wait_events


def test_exit_codes_0_to_255():
    for code in range(256):
        with Run(["run", "--", "sh", "-c", f"exit {code}"]) as r:
            assert r.wait() == code


@pytest.mark.parametrize("code", [0, 1, 42, 255])
def test_exit_codes_as_pid1(code):
    with Run(["run", "--", "sh", "-c", f"exit {code}"], pid1=True) as r:
        assert r.wait() == code


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGINT, signal.SIGKILL, signal.SIGSEGV, signal.SIGTERM, signal.SIGUSR1])
def test_killed_by_signal_is_128_plus_signal(sig):
    with Run(["run", "--", "sh", "-c", f"kill -{int(sig)} $$"]) as r:
        assert r.wait() == 128 + sig


def test_command_not_found_is_127_and_not_executable_is_126(tmp_path):
    with Run(["run", "--", "/nonexistent/cmd"]) as r:
        assert r.wait() == 127
    assert "cannot execute /nonexistent/cmd: No such file or directory" in r.err.text()
    not_executable = tmp_path / "data.txt"
    not_executable.write_text("just data\n")
    not_executable.chmod(0o644)
    with Run(["run", "--", str(not_executable)]) as r:
        assert r.wait() == 126
    assert "Permission denied" in r.err.text()


@pytest.mark.parametrize("pid1", [False, True], ids=["plain", "pid1"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2])
def test_signal_is_forwarded_as_is(tmp_path, pid1, sig):
    ev = str(tmp_path / "ev")
    script = (f"for s in TERM INT HUP USR1 USR2; do trap \"{helper('stamp')} {ev} got $s; exit 0\" $s; done; "
              f"{helper('stamp')} {ev} ready x; sleep infinity & wait")
    with Run(["run", "--", "bash", "-c", script], pid1=pid1) as r:
        deadline = time.monotonic() + 5
        while not read_events(ev) and time.monotonic() < deadline:
            time.sleep(0.01)
        r.signal(sig)
        assert r.wait() == 0
    assert [e[1] for e in read_events(ev) if e[0] == "got"] == [signal.Signals(sig).name[3:]]


def test_stop_signal_replaces_sigterm_and_grace_ends_in_sigkill(tmp_path):
    ev = str(tmp_path / "ev")
    with Run(["run", "--grace", "500ms", "--stop-signal", "SIGUSR1", "--", "bash", "-c",
              f"trap '' TERM USR1; {helper('stamp')} {ev} traps set; "
              "sleep infinity & wait; sleep infinity"]) as r:
        wait_events(ev, 1, "traps", "set")  # SIGTERM only once bash ignores it
        t0 = r.signal(signal.SIGTERM)
        code = r.wait()
    assert code == 137
    assert 0.5 <= time.monotonic() - t0 < 3


def test_stdout_and_stdin_pass_through():
    import subprocess
    with Run(["run", "--", "cat"], stdin=subprocess.PIPE) as r:
        r.proc.stdin.write(b"hello through\n")
        r.proc.stdin.close()
        assert r.wait() == 0
    assert r.out.text() == "hello through"


def test_usage_error_is_2():
    with Run(["run", "--"]) as r:
        assert r.wait() == 2
    with Run(["frobnicate"]) as r:
        assert r.wait() == 2
