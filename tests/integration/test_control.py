"""The control socket and the control commands (docs/control.md): status,
start, stop, restart, signal, reload, logs, wait and shutdown against the
built binary, as a plain process and as PID 1; who may use the socket; a
stale and a live socket file; reload; log followers that cannot keep up;
the protocol's bounds. Services record what happens to them with
CLOCK_MONOTONIC stamps; every wait is bounded."""
import grp
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import (BIN, Run, Stream, free_port, helper, http_get, read_events, wait_events, wait_http,
                      write_config)

STAMP = helper("stamp")
CATCHER = helper("catcher")
STUBBORN = helper("stubborn")
LINEGEN = helper("linegen")
MODES = [pytest.param(False, id="plain"), pytest.param(True, id="pid1")]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


# --- helpers ------------------------------------------------------------------

def head(sock, health="", extra=""):
    return f'[supervisor]\nhealth_listen = "{health}"\ncontrol_socket = "{sock}"\n{extra}\n'


def catcher(name, events, extra="", args=""):
    return f'[services.{name}]\ncommand = ["{CATCHER}", "{events}", "{name}"{args}]\nstop_grace = "2s"\n{extra}\n'


def stamped(name, events, extra=""):
    """A catcher that is ready once it has recorded its start (so "ready"
    orders the stamps), even after a restart (a count of its stamps)."""
    return catcher(name, events, extra) + f"""[services.{name}.ready]
exec = ["sh", "-c", "[ $(grep -c '^{name} started' {events}) -gt $(grep -c '^{name} SIGTERM' {events}) ]"]
interval = "20ms"
"""


def ctl(verb, sock, *args, timeout=20, prefix=(), cwd=None, env=None):
    """Runs `supervisor VERB --socket SOCK ARGS...`; returns the CompletedProcess."""
    cmd = list(prefix) + [BIN, verb] + (["--socket", str(sock)] if sock else []) + list(args)
    full_env = dict(os.environ)
    full_env.pop("SUPERVISOR_CONFIG", None)
    if env:
        full_env.update(env)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=full_env,
                          stdin=subprocess.DEVNULL)


def request(sock, line, timeout=5.0):
    """One raw protocol exchange; returns the answer's text (until the server closes)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(sock))
        s.sendall(line.encode() + b"\n")
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return got.decode()
            got += chunk


def status_doc(sock):
    out = request(sock, "SUPERVISOR/1 status")
    lines = out.splitlines()
    assert lines and lines[-1].startswith("= 0"), out
    return json.loads("\n".join(l[2:] for l in lines if l.startswith(". ")))


def services(sock):
    return {s["name"]: s for s in status_doc(sock)["services"]}


def wait_states(sock, want, timeout=10.0, run=None):
    """Waits (bounded) until every named service is in the wanted state; returns the services."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = services(sock)
            if all(n in last and last[n]["state"] == st for n, st in want.items()):
                return last
        except (OSError, AssertionError) as e:
            last = e
        if run is not None and run.proc.poll() is not None:
            raise AssertionError(f"the supervisor exited ({run.proc.returncode}): {run.err.text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"states {want} not reached within {timeout}s: {last}")
        time.sleep(0.02)  # polling the control socket, bounded


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout}s")
        time.sleep(0.02)  # polling, bounded


def times(evts, name, what):
    return [int(e[-1]) for e in evts if e[0] == name and e[1] == what]


def _try(f):
    try:
        return f()
    except OSError:
        return None


def pids(sock):
    return {n: s["pid"] for n, s in services(sock).items()}


@pytest.fixture
def pubdir():
    """A directory anyone may traverse (pytest's tmp_path is root's only)."""
    d = tempfile.mkdtemp(prefix="svctl-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


# --- status, exit codes ---------------------------------------------------------

@pytest.mark.parametrize("pid1", MODES)
def test_status_over_the_socket_which_is_a_0600_unix_socket(tmp_path, events, pid1):
    sock = tmp_path / "ctl.sock"
    cfg = write_config(tmp_path, head(sock) + catcher("db", events) + catcher("api", events, 'depends_on = ["db"]'))
    with Run(["run", "-c", cfg], pid1=pid1) as r:
        wait_states(sock, {"db": "ready", "api": "ready"}, run=r)
        st = os.stat(sock)
        assert stat.S_ISSOCK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        assert st.st_uid == 0
        # The endpoint is off: the answer can only have come over the socket.
        res = ctl("status", sock, "--json")
        assert res.returncode == 0, res.stderr
        doc = json.loads(res.stdout)
        assert [s["name"] for s in doc["services"]] == ["db", "api"]
        assert all(s["state"] == "ready" and isinstance(s["pid"], int) for s in doc["services"])
        res = ctl("status", None, "-c", cfg, "api")
        assert res.returncode == 0, res.stderr
        rows = res.stdout.strip().splitlines()
        assert rows[0].split()[:2] == ["NAME", "STATE"] and len(rows) == 2, res.stdout
        assert rows[1].split()[:2] == ["api", "ready"], res.stdout
        # Neither -c nor --socket: the configuration found by the usual lookup names it.
        res = ctl("status", None, "db", cwd=tmp_path)  # ./supervisor.toml
        assert res.returncode == 0 and res.stdout.splitlines()[1].split()[:2] == ["db", "ready"], res.stderr
        res = ctl("wait", None, "db", cwd="/", env={"SUPERVISOR_CONFIG": cfg})
        assert res.returncode == 0, res.stderr
        r.signal(signal.SIGTERM)
        assert r.wait(10) == 0, r.err.text()
    assert not os.path.exists(sock)  # removed on the way out


def test_unknown_names_and_usage_errors_exit_2_and_change_nothing(tmp_path, events):
    sock = tmp_path / "ctl.sock"
    cfg = write_config(tmp_path, head(sock) + catcher("api", events))
    with Run(["run", "-c", cfg]) as r:
        before = wait_states(sock, {"api": "ready"}, run=r)["api"]["pid"]
        for verb, args in [("status", ["apii"]), ("start", ["apii"]), ("stop", ["apii"]),
                           ("restart", ["apii"]), ("signal", ["HUP", "apii"]), ("wait", ["apii"]),
                           ("logs", ["apii"]), ("stop", ["api", "apii"])]:
            res = ctl(verb, sock, *args)
            assert res.returncode == 2, (verb, res.returncode, res.stdout, res.stderr)
            assert "unknown service 'apii'" in res.stderr and "did you mean 'api'" in res.stderr, (verb, res.stderr)
        for verb, args in [("start", []), ("stop", []), ("signal", ["NOPE", "api"]), ("signal", ["HUP"]),
                           ("start", ["--timeout", "soon", "api"]), ("stop", ["--bogus", "api"]),
                           ("reload", ["api"]), ("logs", ["-n", "x"])]:
            res = ctl(verb, sock, *args)
            assert res.returncode == 2, (verb, args, res.returncode, res.stderr)
            assert res.stderr.strip(), (verb, args)
        assert services(sock)["api"]["pid"] == before
        assert services(sock)["api"]["state"] == "ready"
        assert times(read_events(events), "api", "SIGHUP") == []


def test_status_over_the_endpoint_also_suggests_names(tmp_path, events):
    port = free_port()
    cfg = write_config(tmp_path, f'[supervisor]\nhealth_listen = "127.0.0.1:{port}"\ncontrol_socket = ""\n'
                       + catcher("api", events))
    with Run(["run", "-c", cfg]) as r:
        wait_http(port)
        res = ctl("status", None, "-c", cfg, "apii")
        assert res.returncode == 2, (res.returncode, res.stderr)
        assert "unknown service 'apii'" in res.stderr and "did you mean 'api'" in res.stderr, res.stderr
        assert r.proc.poll() is None


def test_unreachable_exits_3_saying_which(tmp_path):
    missing = tmp_path / "none.sock"
    stale = tmp_path / "stale.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(stale))
    s.close()  # the file stays, nobody listens
    for verb, args in [("status", []), ("start", ["a"]), ("stop", ["a"]), ("restart", ["a"]),
                       ("signal", ["HUP", "a"]), ("reload", []), ("logs", []), ("wait", []), ("shutdown", [])]:
        res = ctl(verb, missing, *args)
        assert res.returncode == 3, (verb, res.returncode, res.stderr)
        assert str(missing) in res.stderr and "No such file or directory" in res.stderr, (verb, res.stderr)
        res = ctl(verb, stale, *args)
        assert res.returncode == 3, (verb, res.returncode, res.stderr)
        assert str(stale) in res.stderr and "refused" in res.stderr, (verb, res.stderr)
    off = write_config(tmp_path, '[supervisor]\nhealth_listen = ""\ncontrol_socket = ""\n'
                       '[services.a]\ncommand = ["true"]\n')
    for verb, args in [("stop", ["a"]), ("status", [])]:
        res = ctl(verb, None, "-c", off, *args)
        assert res.returncode == 3, (verb, res.returncode, res.stderr)
        assert "off" in res.stderr, res.stderr


# --- stop, start, restart -------------------------------------------------------

@pytest.mark.parametrize("pid1", MODES)
def test_stop_takes_running_dependents_down_first_and_they_stay_stopped(tmp_path, events, pid1):
    sock, port = tmp_path / "ctl.sock", free_port()
    always = 'restart = "always"\nrestart_delay = "100ms"'
    cfg = write_config(tmp_path, head(sock, f"127.0.0.1:{port}")
                       + stamped("db", events, always)
                       + stamped("api", events, 'depends_on = ["db"]\n' + always)
                       + stamped("web", events, 'depends_on = ["api"]\n' + always))
    with Run(["run", "-c", cfg], pid1=pid1) as r:
        wait_states(sock, {"db": "ready", "api": "ready", "web": "ready"}, run=r)
        db_pid = services(sock)["db"]["pid"]
        res = ctl("stop", sock, "api")
        assert res.returncode == 0, res.stderr
        # Returned once both are down: no waiting needed here.
        now = services(sock)
        assert (now["api"]["state"], now["web"]["state"], now["db"]["state"]) == ("stopped", "stopped", "ready")
        evts = read_events(events)
        assert times(evts, "web", "SIGTERM")[0] < times(evts, "api", "SIGTERM")[0], evts
        assert times(evts, "db", "SIGTERM") == []
        assert wait_http(port, "/readyz").strip() == "ok"
        code, body = http_get(port, "/readyz?verbose")
        assert code == 200, body
        assert "[+]api stopped by request" in body and "[+]web stopped by request" in body, body
        # Their restart policy (always, 100 ms) does not apply, and api, a
        # critical service, does not end the supervisor: 10 back-offs later
        # they are still stopped.
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            now = services(sock)
            assert now["api"]["state"] == "stopped" and now["web"]["state"] == "stopped", now
            time.sleep(0.05)  # sampling a state that must not change
        assert r.proc.poll() is None
        assert len(times(read_events(events), "api", "started")) == 1
        # start web: what it needs that is down (api) first.
        mark = time.monotonic_ns()
        res = ctl("start", sock, "web")
        assert res.returncode == 0, res.stderr
        now = services(sock)
        assert now["web"]["state"] == "ready" and now["api"]["state"] == "ready", now
        assert now["db"]["pid"] == db_pid
        evts = wait_events(events, 2, "web", "started")  # ready at exec; the stamp follows
        api2, web2 = times(evts, "api", "started")[-1], times(evts, "web", "started")[-1]
        assert mark < api2 < web2, evts
        # stop db: web, then api, then db; start web: db, api, web in order.
        assert ctl("stop", sock, "db").returncode == 0
        evts = read_events(events)
        assert times(evts, "web", "SIGTERM")[-1] < times(evts, "api", "SIGTERM")[-1] < times(evts, "db", "SIGTERM")[0]
        mark = time.monotonic_ns()
        res = ctl("start", sock, "web")
        assert res.returncode == 0, res.stderr
        evts = wait_events(events, 3, "web", "started")
        started = [times(evts, n, "started")[-1] for n in ("db", "api", "web")]
        assert mark < started[0] < started[1] < started[2], evts
        r.signal(signal.SIGTERM)
        assert r.wait(10) == 0, r.err.text()


@pytest.mark.parametrize("state", ["backoff", "failed", "exited"])
def test_start_of_a_backoff_failed_or_exited_service_is_at_once_with_its_counter_reset(tmp_path, events, state):
    sock = tmp_path / "ctl.sock"
    flag = tmp_path / "flag"
    policy = {"backoff": 'restart = "on-failure"\nrestart_delay = "400ms"\nrestart_delay_max = "30s"',
              "failed": 'restart = "on-failure"\nmax_restarts = 2\nrestart_delay = "100ms"',
              "exited": 'restart = "never"'}[state]
    cfg = write_config(tmp_path, head(sock) + f"""
[services.svc]
command = "{STAMP} {events} svc run; [ -e {flag} ] && exec sleep 1000; exit 3"
critical = false
{policy}
[services.other]
command = ["sleep", "1000"]
""")
    with Run(["run", "-c", cfg]) as r:
        wait_until(lambda: _try(lambda: services(sock)), 10, "the control socket")
        if state == "backoff":
            # Two back-offs done (400 ms, 800 ms): the next one is 1.6 s.
            wait_until(lambda: services(sock)["svc"]["restarts"] >= 2 and services(sock)["svc"]["state"] == "backoff",
                       10, "a second back-off")
        else:
            wait_states(sock, {"svc": state}, run=r)
        before = services(sock)["svc"]
        assert state != "backoff" or before["restarts"] >= 2, before
        runs = len(times(read_events(events), "svc", "run"))
        flag.touch()
        t0 = time.monotonic_ns()
        res = ctl("start", sock, "svc", "--timeout", "5s")
        assert res.returncode == 0, res.stderr
        after = services(sock)["svc"]
        assert after["state"] == "ready" and after["restarts"] == 0, after
        evts = wait_events(events, runs + 1, "svc", "run")  # ready at exec; the stamp follows
        assert len(times(evts, "svc", "run")) == runs + 1, evts
        assert times(evts, "svc", "run")[-1] - t0 < 1_000_000_000, evts  # at once, not after the back-off


def test_a_start_that_fails_exits_1_naming_the_service_and_why(tmp_path, events):
    sock = tmp_path / "ctl.sock"
    cfg = write_config(tmp_path, head(sock) + f"""
[services.broken]
command = ["{tmp_path}/no-such-program"]
critical = false
[services.slow]
command = ["sleep", "1000"]
critical = false
[services.slow.ready]
exec = ["false"]
interval = "50ms"
start_timeout = "60s"
[services.needs_broken]
command = ["sleep", "1000"]
depends_on = ["broken"]
critical = false
[services.late]
command = ["sleep", "1000"]
critical = false
[services.late.ready]
exec = ["false"]
interval = "50ms"
start_timeout = "300ms"
""")
    with Run(["run", "-c", cfg]) as r:
        wait_states(sock, {"broken": "failed", "late": "failed"}, run=r)
        res = ctl("start", sock, "broken")
        assert res.returncode == 1, res.stderr
        assert "broken" in res.stderr and "No such file or directory" in res.stderr, res.stderr
        t0 = time.monotonic()
        res = ctl("start", sock, "--timeout", "400ms", "slow")
        took = time.monotonic() - t0
        assert res.returncode == 1, res.stderr
        assert "slow: not ready after 400ms" in res.stderr, res.stderr
        assert 0.35 < took < 3, took
        res = ctl("restart", sock, "--timeout", "300ms", "slow")
        assert res.returncode == 1 and "slow: not ready after 300ms" in res.stderr, res.stderr
        res = ctl("start", sock, "late")
        assert res.returncode == 1, res.stderr
        assert "late" in res.stderr and "300ms" in res.stderr, res.stderr
        res = ctl("start", sock, "needs_broken")  # its dependency is tried first, and fails
        assert res.returncode == 1, res.stderr
        assert "needs_broken" in res.stderr and "broken" in res.stderr.replace("needs_broken", ""), res.stderr
        res = ctl("wait", sock, "--timeout", "300ms", "slow")
        assert res.returncode == 1 and "slow" in res.stderr, res.stderr
        assert r.proc.poll() is None


@pytest.mark.parametrize("pid1", MODES)
def test_restart_stops_dependents_first_then_starts_everything_again(tmp_path, events, pid1):
    sock = tmp_path / "ctl.sock"
    cfg = write_config(tmp_path, head(sock) + stamped("db", events) + stamped("api", events, 'depends_on = ["db"]')
                       + stamped("other", events))
    with Run(["run", "-c", cfg], pid1=pid1) as r:
        wait_states(sock, {"db": "ready", "api": "ready", "other": "ready"}, run=r)
        before = pids(sock)
        res = ctl("restart", sock, "--timeout", "10s", "db")
        assert res.returncode == 0, res.stderr
        now = services(sock)
        assert now["db"]["state"] == "ready", now
        now = wait_states(sock, {"api": "ready"})
        assert now["db"]["pid"] != before["db"] and now["api"]["pid"] != before["api"], (before, now)
        assert now["other"]["pid"] == before["other"]
        evts = read_events(events)
        api_term, db_term = times(evts, "api", "SIGTERM")[0], times(evts, "db", "SIGTERM")[0]
        db2, api2 = times(evts, "db", "started")[1], times(evts, "api", "started")[1]
        assert api_term < db_term < db2 < api2, evts
        assert times(evts, "other", "SIGTERM") == []
        # --no-wait: back at once, while the stop is still under way.
        res = ctl("restart", sock, "--no-wait", "api")
        assert res.returncode == 0, res.stderr
        wait_events(events, 3, "api", "started")
        r.signal(signal.SIGTERM)
        assert r.wait(10) == 0, r.err.text()


@pytest.mark.parametrize("pid1", MODES)
def test_signal_reaches_the_whole_process_group(tmp_path, events, pid1):
    sock = tmp_path / "ctl.sock"
    cfg = write_config(tmp_path, head(sock) + catcher("svc", events, args=', "--grandchild"')
                       + catcher("idle", events, 'critical = false'))
    with Run(["run", "-c", cfg], pid1=pid1) as r:
        wait_states(sock, {"svc": "ready", "idle": "ready"}, run=r)
        wait_events(events, 1, "svc-grandchild", "started")
        for sig, name in [("USR1", "SIGUSR1"), ("SIGHUP", "SIGHUP"), (str(int(signal.SIGUSR2)), "SIGUSR2")]:
            t0 = time.monotonic_ns()
            res = ctl("signal", sock, sig, "svc")
            assert res.returncode == 0, res.stderr
            evts = wait_events(events, 1, "svc-grandchild", name, timeout=3)
            evts = wait_events(events, 1, "svc", name, timeout=3)
            assert times(evts, "svc", name)[0] > t0 and times(evts, "svc-grandchild", name)[0] > t0
        assert times(read_events(events), "idle", "SIGUSR1") == []
        assert ctl("stop", sock, "idle").returncode == 0
        res = ctl("signal", sock, "USR1", "idle")
        assert res.returncode == 1, res.stderr
        assert "idle" in res.stderr and "not running" in res.stderr, res.stderr
        # restart of a stopped service starts it.
        res = ctl("restart", sock, "idle")
        assert res.returncode == 0, res.stderr
        assert services(sock)["idle"]["state"] == "ready"
        r.signal(signal.SIGTERM)
        assert r.wait(10) == 0, r.err.text()


def test_wait_blocks_until_ready_and_times_out_naming_the_service(tmp_path, events):
    sock = tmp_path / "ctl.sock"
    flag = tmp_path / "flag"
    cfg = write_config(tmp_path, head(sock) + catcher("fast", events) + f"""
[services.gate]
command = ["sleep", "1000"]
[services.gate.ready]
exec = ["test", "-e", "{flag}"]
interval = "50ms"
""")
    with Run(["run", "-c", cfg]) as r:
        wait_states(sock, {"fast": "ready", "gate": "starting"}, run=r)
        assert ctl("wait", sock, "fast").returncode == 0
        t0 = time.monotonic()
        res = ctl("wait", sock, "--timeout", "300ms", "gate")
        assert res.returncode == 1, res.stderr
        assert "gate: not ready after 300ms" in res.stderr, res.stderr
        assert time.monotonic() - t0 >= 0.29
        res = ctl("wait", sock, "--timeout", "300ms")  # all of them
        assert res.returncode == 1 and "gate" in res.stderr and "fast" not in res.stderr, res.stderr
        waiter = subprocess.Popen([BIN, "wait", "--socket", str(sock), "--timeout", "10s"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # It is waiting: give it every chance to return early, then open the gate.
        time.sleep(0.3)  # lets the waiter connect; the assertion is the order below
        assert waiter.poll() is None, waiter.communicate()
        opened = time.monotonic()
        flag.touch()
        out, err = waiter.communicate(timeout=5)
        done = time.monotonic()
        assert waiter.returncode == 0, err
        assert done > opened and done - opened < 3
        # A stopped service counts as fine for `wait` without names.
        assert ctl("stop", sock, "fast").returncode == 0
        assert ctl("wait", sock, "--timeout", "2s").returncode == 0


def test_no_wait_returns_at_once(tmp_path, events):
    sock = tmp_path / "ctl.sock"
    flag = tmp_path / "flag"
    cfg = write_config(tmp_path, head(sock) + f"""
[services.stub]
command = ["{STUBBORN}", "{events}", "stub"]
stop_grace = "1500ms"
critical = false
[services.gate]
command = ["sleep", "1000"]
critical = false
[services.gate.ready]
exec = ["test", "-e", "{flag}"]
interval = "50ms"
""")
    with Run(["run", "-c", cfg]) as r:
        wait_states(sock, {"stub": "ready", "gate": "starting"}, run=r)
        t0 = time.monotonic()
        res = ctl("stop", sock, "--no-wait", "stub")
        assert res.returncode == 0, res.stderr
        assert services(sock)["stub"]["state"] == "stopping"
        res = ctl("stop", sock, "stub")  # this one waits for the SIGKILL after the grace
        took = time.monotonic() - t0
        assert res.returncode == 0, res.stderr
        assert services(sock)["stub"]["state"] == "stopped"
        assert 1.3 < took < 5, took
        res = ctl("start", sock, "--no-wait", "gate")
        assert res.returncode == 0, res.stderr
        assert services(sock)["gate"]["state"] == "starting"


@pytest.mark.parametrize("pid1", MODES)
def test_shutdown_is_sigterm(tmp_path, events, pid1):
    sock = tmp_path / "ctl.sock"
    cfg = write_config(tmp_path, head(sock) + catcher("db", events) + catcher("api", events, 'depends_on = ["db"]'))
    with Run(["run", "-c", cfg], pid1=pid1) as r:
        wait_states(sock, {"db": "ready", "api": "ready"}, run=r)
        wait_events(events, 2, what="started")
        res = ctl("shutdown", sock)
        assert res.returncode == 0, res.stderr
        assert r.wait(10) == 0, r.err.text()
    evts = read_events(events)
    assert times(evts, "api", "SIGTERM")[0] < times(evts, "db", "SIGTERM")[0], evts
    assert not os.path.exists(sock)
    res = ctl("status", sock)
    assert res.returncode == 3, res.stderr


def test_changes_are_refused_during_shutdown(tmp_path, events):
    sock = tmp_path / "ctl.sock"
    cfg = write_config(tmp_path, head(sock, extra='drain_delay = "2s"') + catcher("api", events)
                       + catcher("side", events, 'critical = false'))
    with Run(["run", "-c", cfg]) as r:
        wait_states(sock, {"api": "ready", "side": "ready"}, run=r)
        assert ctl("stop", sock, "side").returncode == 0
        r.signal(signal.SIGTERM)
        wait_until(lambda: status_doc(sock)["state"] == "stopping", 3, "stopping")
        for verb, args in [("reload", []), ("start", ["side"]), ("stop", ["api"]), ("restart", ["api"])]:
            res = ctl(verb, sock, *args)
            assert res.returncode == 1, (verb, res.returncode, res.stderr)
            assert "shutting down" in res.stderr, (verb, res.stderr)
        assert r.proc.poll() is None  # still in the drain
        assert services(sock)["api"]["state"] == "ready"
        assert r.wait(10) == 0, r.err.text()
    assert len(times(read_events(events), "side", "started")) == 1


# --- who may use it ---------------------------------------------------------------

def test_other_users_get_permission_denied_and_change_nothing(pubdir, events, tmp_path):
    sock = os.path.join(pubdir, "ctl.sock")
    cfg = write_config(tmp_path, head(sock) + catcher("api", events))
    with Run(["run", "-c", cfg]) as r:
        before = wait_states(sock, {"api": "ready"}, run=r)["api"]["pid"]
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        # The file's mode keeps them out...
        for verb, args in [("status", []), ("stop", ["api"])]:
            res = ctl(verb, sock, *args, prefix=NOBODY, cwd=pubdir)
            assert res.returncode == 3, (verb, res.returncode, res.stderr)
            assert sock in res.stderr and "ermission denied" in res.stderr, res.stderr
        # ...and so does the server's own check of who is calling.
        os.chmod(sock, 0o666)
        for verb, args in [("stop", ["api"]), ("signal", ["USR1", "api"]), ("shutdown", []), ("status", [])]:
            res = ctl(verb, sock, *args, prefix=NOBODY, cwd=pubdir)
            assert res.returncode == 3, (verb, res.returncode, res.stderr)
            assert sock in res.stderr and "permission denied" in res.stderr.lower(), res.stderr
        now = services(sock)["api"]
        assert now["state"] == "ready" and now["pid"] == before
        assert times(read_events(events), "api", "SIGUSR1") == []
        assert r.proc.poll() is None


@pytest.fixture
def control_group():
    name = f"svctl{os.getpid() % 100000}"
    subprocess.run(["groupdel", name], capture_output=True)
    if subprocess.run(["groupadd", name], capture_output=True).returncode != 0:
        pytest.skip("cannot add a group")
    try:
        yield name, grp.getgrnam(name).gr_gid
    finally:
        subprocess.run(["groupdel", name], capture_output=True)


def test_members_of_control_group_may_use_it(pubdir, events, tmp_path, control_group):
    name, gid = control_group
    sock = os.path.join(pubdir, "ctl.sock")
    cfg = write_config(tmp_path, head(sock, extra=f'control_group = "{name}"') + catcher("api", events)
                       + catcher("web", events))
    with Run(["run", "-c", cfg]) as r:
        wait_states(sock, {"api": "ready", "web": "ready"}, run=r)
        st = os.stat(sock)
        assert stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
        assert st.st_gid == gid
        member = ["setpriv", "--reuid=65534", "--regid=65534", f"--groups={gid}"]
        primary = ["setpriv", "--reuid=65534", f"--regid={gid}", "--clear-groups"]
        res = ctl("status", sock, "--json", prefix=member, cwd=pubdir)
        assert res.returncode == 0, res.stderr
        res = ctl("stop", sock, "api", prefix=member, cwd=pubdir)
        assert res.returncode == 0, res.stderr
        res = ctl("stop", sock, "web", prefix=primary, cwd=pubdir)
        assert res.returncode == 0, res.stderr
        assert {n: s["state"] for n, s in services(sock).items()} == {"api": "stopped", "web": "stopped"}
        res = ctl("start", sock, "api", prefix=NOBODY, cwd=pubdir)
        assert res.returncode == 3 and "ermission denied" in res.stderr, res.stderr
        # Even with the file opened up, the server tells a non-member no.
        os.chmod(sock, 0o666)
        res = ctl("start", sock, "api", prefix=NOBODY, cwd=pubdir)
        assert res.returncode == 3 and "permission denied" in res.stderr, res.stderr
        assert services(sock)["api"]["state"] == "stopped"


# --- the socket file at start -------------------------------------------------------

@pytest.mark.parametrize("pid1", MODES)
def test_a_stale_socket_is_replaced_and_a_live_one_refused(tmp_path, events, pid1):
    sock = tmp_path / "ctl.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(sock))
    s.close()  # left behind by a supervisor that died
    cfg = write_config(tmp_path, head(sock) + catcher("api", events))
    with Run(["run", "-c", cfg], pid1=pid1) as r:
        before = wait_states(sock, {"api": "ready"}, run=r)["api"]["pid"]
        inode = os.stat(sock).st_ino
        other = write_config(tmp_path, head(sock) + catcher("other", events), name="other.toml")
        with Run(["run", "-c", other], pid1=pid1) as second:
            assert second.wait(10) == 2
        assert f"another supervisor is running on {sock}" in second.err.text(), second.err.text()
        assert read_events(events) and times(read_events(events), "other", "started") == []
        # The first one is untouched, its socket file too.
        assert os.stat(sock).st_ino == inode
        assert services(sock)["api"]["pid"] == before
        r.signal(signal.SIGTERM)
        assert r.wait(10) == 0, r.err.text()


# --- reload -------------------------------------------------------------------------

RELOAD_BEFORE = """
[services.keep]
command = ["{catcher}", "{events}", "keep"]
[services.change]
command = ["{catcher}", "{events}", "change"]
depends_on = ["keep"]
[services.gone]
command = ["{catcher}", "{events}", "gone"]
[services.gone2]
command = ["{catcher}", "{events}", "gone2"]
depends_on = ["gone"]
"""

RELOAD_AFTER = """
[services.change]
depends_on = ["keep"]
command = ["{catcher}", "{events}", "change"]
env = {{ NEW = "1" }}
[services.keep]
command = ["{catcher}", "{events}", "keep"]
"""


@pytest.mark.parametrize("pid1", MODES)
def test_reload_applies_the_difference(tmp_path, events, pid1):
    sock, port1, port2 = tmp_path / "ctl.sock", free_port(), free_port()
    fmt = dict(catcher=CATCHER, events=events)
    cfg = write_config(tmp_path, head(sock, f"127.0.0.1:{port1}") + RELOAD_BEFORE.format(**fmt))
    with Run(["run", "-c", cfg], pid1=pid1) as r:
        before = {n: s["pid"] for n, s in wait_states(
            sock, {"keep": "ready", "change": "ready", "gone": "ready", "gone2": "ready"}, run=r).items()}
        wait_events(events, 4, what="started")  # their signals are caught from here on
        wait_http(port1)
        write_config(tmp_path, head(sock, f"127.0.0.1:{port2}") + stamped("added2", events, 'depends_on = ["added"]')
                     + RELOAD_AFTER.format(**fmt) + stamped("added", events, 'depends_on = ["keep"]'))
        mark = time.monotonic_ns()
        res = ctl("reload", sock)
        assert res.returncode == 0, res.stderr
        summary = res.stdout.strip()
        assert summary.startswith("added: ") and summary.endswith("; restarted: change; unchanged: 1"), summary
        added, removed = (sorted(part.split(": ")[1].split(", ")) for part in summary.split("; ")[:2])
        assert added == ["added", "added2"] and removed == ["gone", "gone2"], summary
        now = wait_states(sock, {"keep": "ready", "change": "ready", "added": "ready", "added2": "ready"})
        wait_events(events, 2, "change", "started")
        wait_events(events, 1, "added", "started")
        wait_until(lambda: set(services(sock)) == {"keep", "change", "added", "added2"}, 10, "the removed ones gone")
        now = services(sock)
        assert now["keep"]["pid"] == before["keep"]
        assert now["change"]["pid"] != before["change"]
        evts = read_events(events)
        assert times(evts, "keep", "SIGTERM") == []
        assert times(evts, "gone2", "SIGTERM")[0] < times(evts, "gone", "SIGTERM")[0], evts  # reverse order
        assert mark < times(evts, "change", "SIGTERM")[0] < times(evts, "change", "started")[1], evts
        assert mark < times(evts, "added", "started")[0] < times(evts, "added2", "started")[0], evts
        # health_listen rebinds.
        assert wait_http(port2).strip() == "ok"
        wait_until(lambda: not _answers(port1), 5, "the old address closed")
        r.signal(signal.SIGTERM)
        assert r.wait(10) == 0, r.err.text()


def _answers(port):
    try:
        http_get(port, "/livez", timeout=1)
        return True
    except OSError:
        return False


def test_an_invalid_file_changes_nothing(tmp_path, events):
    sock = tmp_path / "ctl.sock"
    good = head(sock) + catcher("a", events) + catcher("b", events)
    cfg = write_config(tmp_path, good)
    with Run(["run", "-c", cfg]) as r:
        wait_states(sock, {"a": "ready", "b": "ready"}, run=r)
        before = pids(sock)
        # A change to a that would restart it, and a mistake further down.
        bad = (good.replace('stop_grace = "2s"', 'stop_grace = "3s"', 1)
               + '[services.c]\ncommand = ["true"]\nbogus = 1\n')
        write_config(tmp_path, bad)
        line = bad.splitlines().index("bogus = 1") + 1
        res = ctl("reload", sock)
        assert res.returncode == 2, (res.returncode, res.stderr)
        assert f"{cfg}:{line}:1:" in res.stderr, res.stderr
        check = subprocess.run([BIN, "check", "-c", cfg], capture_output=True, text=True, timeout=10)
        assert check.returncode == 2 and check.stderr.strip() in res.stderr, (check.stderr, res.stderr)
        cycle = good.replace(catcher("b", events), catcher("b", events, 'depends_on = ["c"]')) + \
            '[services.c]\ncommand = ["true"]\ndepends_on = ["b"]\n'
        write_config(tmp_path, cycle)
        res = ctl("reload", sock)
        assert res.returncode == 2, (res.returncode, res.stderr)
        assert f"{cfg}:" in res.stderr and "b -> c -> b" in res.stderr, res.stderr
        assert pids(sock) == before and set(services(sock)) == {"a", "b"}
        assert times(read_events(events), "a", "SIGTERM") == []
        # Fixed: now it applies.
        write_config(tmp_path, good)
        res = ctl("reload", sock)
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip() == "added: -; removed: -; restarted: -; unchanged: 2", res.stdout
        assert pids(sock) == before


def test_reload_of_50_services_restarts_only_the_changed_one(tmp_path):
    sock = tmp_path / "ctl.sock"
    body = "".join(f'[services.s{i:02d}]\ncommand = ["sleep", "1000"]\nstop_grace = "1s"\n' for i in range(50))
    cfg = write_config(tmp_path, head(sock) + body)
    with Run(["run", "-c", cfg]) as r:
        wait_states(sock, {f"s{i:02d}": "ready" for i in range(50)}, run=r)
        before = pids(sock)
        changed = body.replace('[services.s17]\ncommand = ["sleep", "1000"]\n',
                               '[services.s17]\ncommand = ["sleep", "1001"]\n')
        assert changed != body
        write_config(tmp_path, head(sock) + changed)
        res = ctl("reload", sock)
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip() == "added: -; removed: -; restarted: s17; unchanged: 49", res.stdout
        wait_until(lambda: services(sock)["s17"]["pid"] not in (None, before["s17"])
                   and services(sock)["s17"]["state"] == "ready", 10, "s17 back")
        after = pids(sock)
        assert [n for n in after if after[n] != before[n]] == ["s17"], (before, after)


def test_a_reload_that_changes_a_stopped_service_starts_it_and_sighup_can_reload(tmp_path, events):
    sock = tmp_path / "ctl.sock"
    base = head(sock, extra='sighup = "reload"') + catcher("a", events) + catcher("b", events)
    cfg = write_config(tmp_path, base)
    with Run(["run", "-c", cfg]) as r:
        wait_states(sock, {"a": "ready", "b": "ready"}, run=r)
        assert ctl("stop", sock, "a", "b").returncode == 0
        # Unchanged: a stays stopped. Changed: b starts.
        write_config(tmp_path, base.replace(catcher("b", events), catcher("b", events, 'env = { X = "1" }')))
        res = ctl("reload", sock)
        assert res.returncode == 0 and "restarted: b" in res.stdout, (res.stdout, res.stderr)
        wait_states(sock, {"b": "ready", "a": "stopped"})
        # SIGHUP with sighup = "reload": an added service starts, and no service got the HUP.
        write_config(tmp_path, base.replace(catcher("b", events), catcher("b", events, 'env = { X = "1" }'))
                     + catcher("c", events))
        r.signal(signal.SIGHUP)
        wait_states(sock, {"c": "ready", "b": "ready", "a": "stopped"})
        assert times(read_events(events), "b", "SIGHUP") == []


def test_reload_moves_the_control_socket(tmp_path, events):
    old, new = tmp_path / "old.sock", tmp_path / "new.sock"
    body = catcher("api", events)
    cfg = write_config(tmp_path, head(old) + body)
    with Run(["run", "-c", cfg]) as r:
        before = wait_states(old, {"api": "ready"}, run=r)["api"]["pid"]
        write_config(tmp_path, head(new) + body)
        res = ctl("reload", old)  # answered on the old socket
        assert res.returncode == 0 and "unchanged: 1" in res.stdout, (res.stdout, res.stderr)
        assert wait_states(new, {"api": "ready"})["api"]["pid"] == before
        wait_until(lambda: not old.exists(), 5, "the old socket file gone")
        assert ctl("status", old).returncode == 3
        assert ctl("status", None, "-c", cfg).returncode == 0


@pytest.mark.parametrize("edit,changed", [
    pytest.param("env_file", True, id="env-file-contents"),
    pytest.param("ready", True, id="ready-section"),
    pytest.param("health", True, id="health-section"),
    pytest.param("reorder", False, id="keys-moved-and-a-comment"),
])
def test_what_a_reload_counts_as_a_change(tmp_path, events, edit, changed):
    sock = tmp_path / "ctl.sock"
    envf = tmp_path / "svc.env"
    envf.write_text("A=1\n")
    svc = f"""[services.svc]
command = ["{CATCHER}", "{events}", "svc"]
env_file = ["{envf}"]
stop_grace = "2s"
[services.svc.ready]
exec = ["true"]
[services.svc.health]
exec = ["true"]
interval = "10s"
"""
    cfg = write_config(tmp_path, head(sock) + svc + catcher("other", events))
    with Run(["run", "-c", cfg]) as r:
        wait_states(sock, {"svc": "ready", "other": "ready"}, run=r)
        before = pids(sock)
        if edit == "env_file":
            envf.write_text("A=2\n")
            new = svc
        elif edit == "ready":
            new = svc.replace('[services.svc.ready]\nexec = ["true"]',
                              '[services.svc.ready]\nexec = ["test", "-e", "/"]')
        elif edit == "health":
            new = svc.replace('interval = "10s"', 'interval = "11s"')
        else:
            new = "# moved around\n" + svc.replace('env_file = ["' + str(envf) + '"]\nstop_grace = "2s"',
                                                   'stop_grace = "2s"\nenv_file = ["' + str(envf) + '"]')
            assert new != svc
        write_config(tmp_path, head(sock) + new + catcher("other", events))
        res = ctl("reload", sock)
        assert res.returncode == 0, res.stderr
        if changed:
            assert res.stdout.strip() == "added: -; removed: -; restarted: svc; unchanged: 1", res.stdout
            wait_until(lambda: services(sock)["svc"]["pid"] not in (None, before["svc"])
                       and services(sock)["svc"]["state"] == "ready", 10, "svc back")
            assert services(sock)["other"]["pid"] == before["other"]
        else:
            assert res.stdout.strip() == "added: -; removed: -; restarted: -; unchanged: 2", res.stdout
            assert pids(sock) == before


def test_a_removed_service_gets_its_grace(tmp_path, events):
    sock = tmp_path / "ctl.sock"
    keep = catcher("keep", events)
    cfg = write_config(tmp_path, head(sock) + keep + f"""
[services.stub]
command = ["{STUBBORN}", "{events}", "stub"]
stop_grace = "700ms"
""")
    with Run(["run", "-c", cfg]) as r:
        wait_states(sock, {"keep": "ready", "stub": "ready"}, run=r)
        wait_events(events, 1, "stub", "started")
        write_config(tmp_path, head(sock) + keep)
        t0 = time.monotonic()
        res = ctl("reload", sock)
        assert res.returncode == 0 and "removed: stub" in res.stdout, (res.stdout, res.stderr)
        assert services(sock)["stub"]["state"] == "stopping"  # SIGTERM ignored: its grace runs
        wait_until(lambda: "stub" not in services(sock), 5, "stub gone")
        assert time.monotonic() - t0 >= 0.65
        assert "stub: killed" in r.err.text() or "SIGKILL" in r.err.text(), r.err.text()
        assert r.proc.poll() is None


# --- single-command mode --------------------------------------------------------------

def unix_listeners(pid):
    """The paths of the Unix stream sockets process `pid` listens on."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    with open(f"/proc/{pid}/net/unix") as f:
        next(f)
        for line in f:
            cols = line.split()
            # Flags 00010000: listening; type 0001: stream.
            if len(cols) >= 7 and cols[6] in inodes and int(cols[3], 16) & 0x10000 and cols[4] == "0001":
                found.append(cols[7] if len(cols) > 7 else "")
    return found


def test_single_command_mode_has_a_socket_only_when_asked(tmp_path, events):
    sock = tmp_path / "ctl.sock"
    with Run(["run", "--", CATCHER, events, "main"]) as r:
        wait_events(events, 1, "main", "started")
        assert unix_listeners(r.sv_pid) == []
        r.signal(signal.SIGTERM)
        assert r.wait(10) == 0
    with Run(["run", "--control-socket", str(sock), "--", CATCHER, events, "cmd"]) as r:
        wait_events(events, 1, "cmd", "started")
        assert unix_listeners(r.sv_pid) == [str(sock)]
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        doc = status_doc(sock)
        assert len(doc["services"]) == 1 and doc["services"][0]["state"] == "ready", doc
        res = ctl("signal", sock, "USR1", doc["services"][0]["name"])
        assert res.returncode == 0, res.stderr
        wait_events(events, 1, "cmd", "SIGUSR1", timeout=3)
        assert ctl("shutdown", sock).returncode == 0
        assert r.wait(10) == 0


# --- logs ---------------------------------------------------------------------------

def test_logs_last_lines_and_names(tmp_path):
    sock = tmp_path / "ctl.sock"
    cfg = write_config(tmp_path, head(sock) + """
[services.a]
command = "for i in 1 2 3 4 5; do echo a$i; done; exec sleep 1000"
[services.bb]
command = "for i in 1 2 3; do echo b$i; done; echo b-err >&2; exec sleep 1000"
""")
    with Run(["run", "-c", cfg]) as r:
        wait_until(lambda: len(ctl("logs", sock).stdout.splitlines()) == 9, 10, "9 lines kept")
        res = ctl("logs", sock, "-n", "3", "a")
        assert res.returncode == 0, res.stderr
        assert res.stdout.splitlines() == ["a | a3", "a | a4", "a | a5"], res.stdout
        res = ctl("logs", sock, "bb")
        got = res.stdout.splitlines()  # stdout and stderr are two pipes: no order between them
        assert [l for l in got if l != "bb | b-err"] == ["bb | b1", "bb | b2", "bb | b3"] and "bb | b-err" in got, got
        res = ctl("logs", sock)
        lines = [tuple(p.strip() for p in l.split("|", 1)) for l in res.stdout.splitlines()]
        assert [t for n, t in lines if n == "a"] == ["a1", "a2", "a3", "a4", "a5"], res.stdout
        assert [t for n, t in lines if n == "bb" and t != "b-err"] == ["b1", "b2", "b3"], res.stdout
        res = ctl("logs", sock, "-n", "0", "a")
        assert res.returncode == 0 and res.stdout == "", res.stdout
        # The same lines on the supervisor's own output, as they came.
        assert "a  | a5" in r.out.text().splitlines(), r.out.text()


@pytest.mark.parametrize("pid1", MODES)
def test_logs_follow_shows_new_lines_live(tmp_path, events, pid1):
    sock = tmp_path / "ctl.sock"
    cfg = write_config(tmp_path, head(sock) + f"""
[services.tick]
command = "trap 'echo pong' USR1; echo hello; {STAMP} {events} tick started; while :; do sleep 0.05 & wait $!; done"
""")
    with Run(["run", "-c", cfg], pid1=pid1) as r:
        wait_events(events, 1, "tick", "started")
        f = subprocess.Popen([BIN, "logs", "--socket", str(sock), "-f", "tick"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        try:
            out = Stream(f.stdout)
            out.wait_for(r"^tick \| hello$", 5)
            assert f.poll() is None  # still following
            t0 = time.monotonic()
            assert ctl("signal", sock, "USR1", "tick").returncode == 0
            t, _ = out.wait_for(r"^tick \| pong$", 5)
            assert t - t0 < 2
            r.signal(signal.SIGTERM)
            assert r.wait(10) == 0
            assert f.wait(5) == 0  # the follower ends with the supervisor
        finally:
            if f.poll() is None:
                f.kill()
                f.wait()


def _counter(path):
    try:
        with open(path) as fh:
            return int(fh.read().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def test_a_stalled_follower_slows_nothing_and_a_slow_one_learns_what_it_lost(tmp_path):
    sock, port = tmp_path / "ctl.sock", free_port()
    counter = tmp_path / "count"
    cfg = write_config(tmp_path, head(sock, f"127.0.0.1:{port}") + f"""
[services.chatty]
command = ["{LINEGEN}", "chatty", "0", "-c", "{counter}"]
""")
    # The supervisor's own stdout goes nowhere slow: only the followers may lag.
    p = subprocess.Popen([BIN, "run", "-c", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    stalled = cli = None
    try:
        wait_http(port)
        wait_until(lambda: _counter(counter) > 0, 10, "chatty writing")

        def rate(windows=4, seconds=0.25):
            """Bytes per second chatty wrote: the best of a few windows, so
            that a moment of contention on a busy machine does not count."""
            best = 0
            for _ in range(windows):
                a, t = _counter(counter), time.monotonic()
                time.sleep(seconds)  # a measuring window; the assertion is on the ratio
                best = max(best, (_counter(counter) - a) / (time.monotonic() - t))
            return best

        free = rate()
        stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(str(sock))
        stalled.sendall(b"SUPERVISOR/1 logs follow=yes chatty\n")
        # A CLI follower whose stdout nobody reads for now.
        cli = subprocess.Popen([BIN, "logs", "--socket", str(sock), "-f", "chatty"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
        time.sleep(0.3)  # lets both fill their buffers
        blocked = rate()
        assert blocked > 0.4 * free, (free, blocked)
        worst = 0
        for _ in range(5):
            t0 = time.monotonic()
            assert http_get(port, "/livez", timeout=2)[0] == 200
            worst = max(worst, time.monotonic() - t0)
        assert worst < 0.5, worst
        assert status_doc(sock)["services"][0]["state"] == "ready"
        # Both now read: each learns how many lines it lost.
        for name, read in [("raw", lambda: stalled.recv(65536)), ("cli", lambda: os.read(cli.stdout.fileno(), 65536))]:
            got, deadline = b"", time.monotonic() + 10
            if name == "raw":
                stalled.settimeout(2)
            rx = re.compile(rb"-- (\d+) lines dropped --")
            while not rx.search(got):
                assert time.monotonic() < deadline, (name, got[-500:])
                got = got[-4096:] + read()
            assert int(rx.search(got).group(1)) > 0
    finally:
        if stalled:
            stalled.close()
        if cli:
            cli.kill()
            cli.wait()
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


# --- bounds ---------------------------------------------------------------------------

def test_bounds_long_requests_idle_clients_and_200_clients_at_once(tmp_path, events):
    sock = tmp_path / "ctl.sock"
    cfg = write_config(tmp_path, head(sock) + catcher("a", events) + catcher("b", events)
                       + f'[services.tick]\ncommand = "while :; do {STAMP} {events} tick t; sleep 0.05; done"\n')
    with Run(["run", "-c", cfg]) as r:
        wait_states(sock, {"a": "ready", "b": "ready", "tick": "ready"}, run=r)
        before = pids(sock)
        idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        idle.connect(str(sock))
        idle_since = time.monotonic()
        # Over 64 KiB: refused, with or without its newline.
        for data in [b"SUPERVISOR/1 status " + b"a" * 70000, b"SUPERVISOR/1 status " + b"a" * 70000 + b"\n"]:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(5)
                s.connect(str(sock))
                try:
                    s.sendall(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                got = b""
                try:
                    while chunk := s.recv(4096):
                        got += chunk
                except ConnectionResetError:
                    pass
            assert got.startswith(b"= 2 ") and b"64 KiB" in got, got
        # Exactly 64 KiB with its newline is still a request (for a service of a long name).
        line = "SUPERVISOR/1 status "
        line += "a" * (65535 - len(line))
        assert len(line) + 1 == 65536
        answer = request(sock, line)
        assert answer.startswith("= 2 unknown service 'aaa"), answer[:200]
        # 200 clients at once.
        clients = []
        for _ in range(200):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(str(sock))  # blocking, as the command's own
            s.settimeout(10)
            clients.append(s)
        t0 = time.monotonic_ns()
        for s in clients:
            s.sendall(b"SUPERVISOR/1 status\n")
        results = [None] * 200

        def read_one(i):
            got = b""
            while chunk := clients[i].recv(65536):
                got += chunk
            results[i] = got.decode()
            clients[i].close()
        threads = [threading.Thread(target=read_one, args=(i,)) for i in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        for res in results:
            assert res is not None and res.endswith("= 0 \n"), res
            doc = json.loads("\n".join(l[2:] for l in res.splitlines() if l.startswith(". ")))
            assert [s["name"] for s in doc["services"]] == ["a", "b", "tick"]
        assert pids(sock) == before
        wait_until(lambda: [x for x in times(read_events(events), "tick", "t") if x > t0], 3, "a tick after the flood")
        # The idle client: told, and closed, after 10 s.
        idle.settimeout(15)
        got = b""
        while chunk := idle.recv(4096):
            got += chunk
        waited = time.monotonic() - idle_since
        idle.close()
        assert got.startswith(b"= 2 ") and b"no request" in got, got
        assert 9.5 < waited < 12, waited


# --- the auto path --------------------------------------------------------------------

@pytest.mark.parametrize("where", ["xdg", "tmp"])
def test_status_without_configuration_uses_the_auto_path_of_a_user(pubdir, events, where):
    """$XDG_RUNTIME_DIR/supervisor.sock, else /tmp/supervisor-UID/control.sock (0700)."""
    run_dir = os.path.join(pubdir, "xdg")
    empty = os.path.join(pubdir, "empty")
    for d in (run_dir, empty):
        os.mkdir(d, 0o700)
        os.chown(d, 65534, 65534)
    cfg = os.path.join(pubdir, "sv.toml")
    with open(cfg, "w") as fh:
        fh.write('[supervisor]\nhealth_listen = ""\n[services.api]\ncommand = ["sleep", "1000"]\n')
    xdg = run_dir if where == "xdg" else ""
    tmp_dir = "/tmp/supervisor-65534"
    made = not os.path.exists(tmp_dir)
    sock = os.path.join(run_dir, "supervisor.sock") if where == "xdg" else os.path.join(tmp_dir, "control.sock")
    env = dict(os.environ, XDG_RUNTIME_DIR=xdg, NO_COLOR="1")
    env.pop("SUPERVISOR_CONFIG", None)
    p = subprocess.Popen(NOBODY + [BIN, "run", "-c", cfg], env=env, cwd=empty, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        try:
            wait_states(sock, {"api": "ready"})
        except AssertionError:
            os.killpg(p.pid, signal.SIGKILL)
            raise AssertionError(f"exit {p.wait()}: {p.stderr.read().decode()}")
        if where == "tmp":
            st = os.stat(tmp_dir)
            assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == 65534, oct(st.st_mode)
        # No network: the endpoint's default address, status's fallback, cannot answer instead.
        client = ["unshare", "-n"] + NOBODY
        res = ctl("status", None, prefix=client, cwd=empty, env={"XDG_RUNTIME_DIR": xdg})
        assert res.returncode == 0, res.stderr
        assert res.stdout.splitlines()[1].split()[:2] == ["api", "ready"], res.stdout
        res = ctl("stop", None, "api", prefix=client, cwd=empty, env={"XDG_RUNTIME_DIR": xdg})
        assert res.returncode == 0, res.stderr
        assert services(sock)["api"]["state"] == "stopped"
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        if where == "tmp" and made:
            shutil.rmtree(tmp_dir, ignore_errors=True)


@pytest.mark.parametrize("pid1", MODES)
def test_status_without_configuration_uses_the_auto_path_of_root(tmp_path, pid1):
    """/run/supervisor.sock, in a mount namespace of its own with /run a fresh
    tmpfs (and no network: the HTTP fallback finds nothing either)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    cfg = write_config(tmp_path, '[supervisor]\nhealth_listen = ""\n[services.api]\ncommand = ["sleep", "1000"]\n')
    ns = ["unshare", "-m", "-n", "--propagation", "private"] + (["-fp", "--mount-proc"] if pid1 else [])
    env = dict(os.environ)
    env.pop("SUPERVISOR_CONFIG", None)
    env.pop("XDG_RUNTIME_DIR", None)
    p = subprocess.Popen(ns + ["sh", "-c", f"mount -t tmpfs tmpfs /run && exec {BIN} run -c {cfg}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        target = p.pid
        if pid1:  # unshare -f: the supervisor is its child
            target = wait_until(lambda: open(f"/proc/{p.pid}/task/{p.pid}/children").read().split(), 5, "fork")[0]
        # Only once it is the supervisor are its namespaces the new ones.
        real = os.path.realpath(BIN)
        wait_until(lambda: _try(lambda: os.readlink(f"/proc/{target}/exe")) == real, 5, "the exec")
        enter = ["nsenter", "-t", str(target), "-m", "-n", "--"]

        def status(*args):
            return subprocess.run(enter + [BIN, "status", *args], capture_output=True, text=True, timeout=10,
                                  cwd=empty, env=env)
        res = wait_until(lambda: (lambda x: x if x.returncode == 0 else None)(status()), 10, "status answering")
        assert res.stdout.splitlines()[1].split()[:2] == ["api", "ready"], res.stdout
        res = subprocess.run(enter + [BIN, "shutdown"], capture_output=True, text=True, timeout=10, cwd=empty, env=env)
        assert res.returncode == 0, res.stderr
        assert p.wait(10) == 0, p.stderr.read()
        # Nothing there any more: unreachable, and it says where it looked.
        res = subprocess.run(["unshare", "-m", "-n", "--propagation", "private", "sh", "-c",
                              f"mount -t tmpfs tmpfs /run && exec {BIN} status"],
                             capture_output=True, text=True, timeout=10, cwd=empty, env=env)
        assert res.returncode == 3, (res.returncode, res.stderr)
        assert "cannot reach" in res.stderr, res.stderr
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
