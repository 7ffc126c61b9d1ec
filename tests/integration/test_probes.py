"""Readiness and liveness probes (docs/health.md: [ready] / [health]).

Services record events with CLOCK_MONOTONIC stamps (helpers/stamp.c, or the
same format from Python); the tests assert that a dependent starts only
after its dependency's probe could really pass, with time bounds."""
import json
import os
import shutil
import signal
import sys
import time

import pytest

from conftest import Run, free_port, helper, http_get, read_events, wait_events, write_config

STAMP = helper("stamp")
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
HEAD = '[supervisor]\nhealth_listen = ""\n'

# A stamp in stamp.c's format ("WORDS... MONOTONIC_NS"), from Python.
PY_STAMP = """
import os, sys, time
def stamp(events, *words):
    line = " ".join(words) + " %d\\n" % time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    fd = os.open(events, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, line.encode())
    os.close(fd)
"""

TCP_SERVER = PY_STAMP + """
import socket
port, events, delay = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
stamp(events, "db", "started")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))   # bound but not listening: connect is refused
time.sleep(delay)
stamp(events, "db", "listening")  # before listen(): no connect can succeed earlier
s.listen(16)
while True:
    c, _ = s.accept()
    c.close()
"""

HTTP_SERVER = PY_STAMP + """
from http.server import BaseHTTPRequestHandler, HTTPServer
port, events, delay, ok_code = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
t0 = time.monotonic()
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/ready":
            code = 404
        elif time.monotonic() - t0 < delay:
            code = 503
        else:
            code = ok_code
        stamp(events, "db", "answer", str(code))  # before the answer leaves
        self.send_response(code)
        if code == 302:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
stamp(events, "db", "started")
HTTPServer(("127.0.0.1", port), H).serve_forever()
"""


def times(evts, name, what):
    return [int(e[-1]) / 1e9 for e in evts if e[0] == name and e[1] == what]


def dependent(name, events, dep):
    return f"""
[services.{name}]
command = ["bash", "-c", "{STAMP} {events} {name} started; exec sleep 1000"]
depends_on = ["{dep}"]
"""


def script(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def wait_ev(r, events, count, name=None, what=None, timeout=10.0):
    """wait_events, with the supervisor's stderr in the failure message."""
    try:
        return wait_events(events, count, name, what, timeout=timeout)
    except AssertionError as e:
        raise AssertionError(f"{e}\nsupervisor stderr:\n{r.err.text()}") from None


def stop_and_wait(r, timeout=5.0):
    t0 = r.signal(signal.SIGTERM)
    code = r.wait(timeout + 5)
    assert time.monotonic() - t0 < timeout
    return code


# --- readiness ---

def test_tcp_ready_waits_for_a_real_listener(tmp_path, events):
    port = free_port()
    cfg = HEAD + f"""
[services.db]
command = ["{PY}", "{script(tmp_path, 'tcp_server.py', TCP_SERVER)}", "{port}", "{events}", "1.0"]
[services.db.ready]
tcp = "127.0.0.1:{port}"
interval = "100ms"
timeout = "1s"
start_timeout = "10s"
""" + dependent("api", events, "db")
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        evts = wait_ev(r, events, 1, "api", "started", timeout=10)
        assert stop_and_wait(r) == 0
    db_start = times(evts, "db", "started")[0]
    listening = times(evts, "db", "listening")[0]
    api = times(evts, "api", "started")[0]
    assert listening - db_start >= 1.0
    assert api > listening, "the dependent started before the dependency listened"
    assert api - listening < 1.0, f"ready {api - listening:.2f}s after listen() with a 100ms interval"
    err = r.err.text()
    assert err.index("db: ready") < err.index("api: started")


@pytest.mark.parametrize("ok_code", [200, 302])
def test_http_ready_waits_for_a_2xx_or_3xx(tmp_path, events, ok_code):
    port = free_port()
    cfg = HEAD + f"""
[services.db]
command = ["{PY}", "{script(tmp_path, 'http_server_503_then_ok.py', HTTP_SERVER)}", "{port}", "{events}", "1.0", "{ok_code}"]
[services.db.ready]
http = "http://127.0.0.1:{port}/ready"
interval = "100ms"
timeout = "1s"
start_timeout = "10s"
""" + dependent("api", events, "db")
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        evts = wait_ev(r, events, 1, "api", "started", timeout=10)
        assert stop_and_wait(r) == 0
    answers = [(int(e[2]), int(e[-1]) / 1e9) for e in evts if e[0] == "db" and e[1] == "answer"]
    assert any(c == 503 for c, _ in answers), "the probe never saw the 503 phase: it proved nothing"
    assert not any(c == 404 for c, _ in answers), "the probe asked for another path"
    first_ok = min(t for c, t in answers if c == ok_code)
    api = times(evts, "api", "started")[0]
    assert api > first_ok, f"dependent started before the first {ok_code}"
    assert api - first_ok < 1.0
    # A 503 is not ready: the dependent did not start during the 503 phase.
    assert api > max(t for c, t in answers if c == 503)


def test_exec_ready_waits_for_exit_status_0(tmp_path, events):
    flag = tmp_path / "flag"
    cfg = HEAD + f"""
[services.db]
command = ["bash", "-c", "{STAMP} {events} db started; sleep 1; {STAMP} {events} db flag; touch {flag}; exec sleep 1000"]
[services.db.ready]
exec = ["test", "-f", "{flag}"]
interval = "100ms"
start_timeout = "10s"
""" + dependent("api", events, "db")
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        evts = wait_ev(r, events, 1, "api", "started", timeout=10)
        assert stop_and_wait(r) == 0
    flagged = times(evts, "db", "flag")[0]
    api = times(evts, "api", "started")[0]
    assert api > flagged
    assert api - flagged < 1.0
    assert flagged - times(evts, "db", "started")[0] >= 1.0


NOTIFIERS = [
    pytest.param("systemd-notify", id="systemd-notify",
                 marks=pytest.mark.skipif(shutil.which("systemd-notify") is None, reason="no systemd-notify")),
    pytest.param("helper", id="sdnotify-helper"),
]


@pytest.mark.parametrize("client", NOTIFIERS)
def test_notify_ready_and_status(tmp_path, events, client):
    port = free_port()
    if client == "systemd-notify":
        send = "systemd-notify --status='warmed up: 42 items' --ready"
    else:
        send = f"{helper('sdnotify')} $'STATUS=warmed up: 42 items\\\\nREADY=1'"
    cfg = f"""
[supervisor]
health_listen = "127.0.0.1:{port}"
[services.db]
command = ["bash", "-c", "{STAMP} {events} db started; sleep 1; {STAMP} {events} db notifying; {send}; {STAMP} {events} db sent $?; exec sleep 1000"]
[services.db.ready]
notify = true
start_timeout = "10s"
""" + dependent("api", events, "db")
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        evts = wait_ev(r, events, 1, "api", "started", timeout=10)
        evts = wait_ev(r, events, 1, "db", "sent", timeout=5)
        status = None
        try:
            code, body = http_get(port, "/status", timeout=2)
            if code == 200:
                status = json.loads(body)
        except (OSError, ValueError):
            pass
        assert stop_and_wait(r) == 0
    sent = [e for e in evts if e[0] == "db" and e[1] == "sent"][0]
    assert sent[2] == "0", f"{client} exited {sent[2]} (BARRIER=1 must be answered)"
    notifying = times(evts, "db", "notifying")[0]
    api = times(evts, "api", "started")[0]
    assert api > notifying, "the dependent started before READY=1 was sent"
    assert api - notifying < 1.0
    if status is None:
        pytest.skip("/status did not answer; the STATUS= part was not checked")
    db = [s for s in status["services"] if s["name"] == "db"][0]
    assert db.get("status") == "warmed up: 42 items", db


def test_readiness_timeout_fails_the_start(tmp_path, events):
    cfg = HEAD + """
[services.db]
command = ["sleep", "1000"]
[services.db.ready]
exec = ["false"]
interval = "100ms"
start_timeout = "1s"
""" + dependent("api", events, "db")
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        code = r.wait(10)
        elapsed = time.monotonic() - r.started
    assert code == 1, "a critical service that never became ready: exit 1"
    assert 1.0 <= elapsed < 3.5, elapsed
    assert "db: not ready within 1s" in r.err.text()
    assert read_events(events) == [], "the dependent must never start"


def test_liveness_failures_restart_the_service(tmp_path, events):
    flag = tmp_path / "alive"
    cfg = HEAD + f"""
[services.web]
command = ["bash", "-c", "{STAMP} {events} web run; touch {flag}; exec sleep 1000"]
restart = "on-failure"
restart_delay = "100ms"
[services.web.health]
exec = ["test", "-f", "{flag}"]
interval = "200ms"
timeout = "1s"
failures = 2
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        wait_ev(r, events, 1, "web", "run")
        r.err.wait_for(r"web: ready", 5)
        deadline = time.monotonic() + 5
        while not flag.exists():
            assert time.monotonic() < deadline
            time.sleep(0.01)  # the service creates it right after its stamp
        # Let one check pass first: health starts one interval after ready.
        time.sleep(0.3)  # setup, not an assertion
        t_removed = time.monotonic()
        flag.unlink()
        evts = wait_ev(r, events, 2, "web", "run", timeout=5)
        runs = times(evts, "web", "run")
        # Two failures in a row, one interval apart, then stop + 100ms delay.
        assert runs[1] - t_removed >= 0.28, runs[1] - t_removed
        assert runs[1] - t_removed < 2.5, runs[1] - t_removed
        err = r.err.text()
        assert "web: unhealthy" in err
        assert "health check failed (1/2)" in err and "health check failed (2/2)" in err
        assert err.index("(2/2)") < err.index("web: unhealthy")
        assert "web: restarting in 100ms" in err
        assert stop_and_wait(r) == 0
    assert len(times(read_events(events), "web", "run")) == 2


def test_hanging_exec_probe_is_killed_at_its_timeout(tmp_path, events):
    probe = (f"{STAMP} {events} probe $$; sleep 1000 & {STAMP} {events} probechild $!; wait")
    cfg = HEAD + f"""
[services.db]
command = ["sleep", "1000"]
[services.db.ready]
exec = ["bash", "-c", "{probe}"]
interval = "200ms"
timeout = "300ms"
start_timeout = "60s"
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        evts = wait_ev(r, events, 2, "probe", timeout=5)
        evts = wait_ev(r, events, 1, "probechild", timeout=5)
        first = [e for e in evts if e[0] == "probe"][0]
        pid, t_start = int(first[1]), int(first[2]) / 1e9
        child = int([e for e in evts if e[0] == "probechild"][0][1])
        deadline = time.monotonic() + 3
        while os.path.exists(f"/proc/{pid}") or os.path.exists(f"/proc/{child}"):
            assert time.monotonic() < deadline, "the hung probe (or its child) outlived its timeout"
            time.sleep(0.005)  # polling for the kill, bounded
        gone = time.monotonic() - t_start
        assert 0.2 <= gone < 0.3 + 1.0, f"probe gone {gone:.2f}s after its start, timeout 300ms"
        # Attempts follow one another (start-to-start interval, no overlap).
        evts = wait_ev(r, events, 3, "probe", timeout=5)
        starts = [int(e[2]) / 1e9 for e in evts if e[0] == "probe"]
        assert starts[1] - starts[0] >= 0.25, starts
        assert stop_and_wait(r) == 0
    pids = [int(e[1]) for e in read_events(events) if e[0] in ("probe", "probechild")]
    left = [p for p in pids if os.path.exists(f"/proc/{p}")]
    assert left == [], f"probe processes left behind: {left}"


def test_hanging_health_probe_counts_as_failure(tmp_path):
    # A liveness check that hangs is a failure at its timeout; restart =
    # never on a critical service: the run ends with the service's status
    # (SIGTERM: 143), and no probe process is left.
    cfg = HEAD + f"""
[services.web]
command = ["sleep", "1000"]
[services.web.health]
exec = ["bash", "-c", "exec -a hungprobe-{tmp_path.name} sleep 1000"]
interval = "200ms"
timeout = "300ms"
failures = 2
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        code = r.wait(10)
        elapsed = time.monotonic() - r.started
    assert code == 128 + signal.SIGTERM
    # ready, +200ms first check, +300ms timeout, next at once, +300ms timeout.
    assert 0.8 <= elapsed < 3.0, elapsed
    err = r.err.text()
    assert "health check failed (1/2): timed out after 300ms" in err
    assert "web: unhealthy" in err
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                assert f"hungprobe-{tmp_path.name}".encode() not in f.read(), f"probe {pid} left behind"
        except OSError:
            pass


def test_notify_from_a_stranger_is_ignored(tmp_path, events):
    # Only the service's own processes may declare it ready. A READY=1 from
    # an unrelated live process (this test) is dropped; datagrams are
    # handled in order, so once the service's later STATUS= shows in
    # /status, the stranger's READY=1 has been seen and ignored.
    import socket
    port = free_port()
    sock_file, go1, go2 = tmp_path / "sock", tmp_path / "go1", tmp_path / "go2"
    sd = helper("sdnotify")
    svc = (f"echo $NOTIFY_SOCKET > {sock_file}; "
           f"while [ ! -e {go1} ]; do sleep 0.02; done; {sd} STATUS=after-stranger; "
           f"while [ ! -e {go2} ]; do sleep 0.02; done; {STAMP} {events} db notifying; {sd} READY=1; exec sleep 1000")
    cfg = f"""
[supervisor]
health_listen = "127.0.0.1:{port}"
[services.db]
command = ["bash", "-c", "{svc}"]
[services.db.ready]
notify = true
start_timeout = "20s"
""" + dependent("api", events, "db")

    def db_status():
        try:
            code, body = http_get(port, "/status", timeout=2)
        except OSError:
            return None
        if code != 200:
            return None
        return [s for s in json.loads(body)["services"] if s["name"] == "db"][0]

    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        deadline = time.monotonic() + 5
        while not sock_file.exists() or not sock_file.read_text().strip():
            assert time.monotonic() < deadline, r.err.text()
            time.sleep(0.01)  # waiting for the service to start, bounded
        path = sock_file.read_text().strip()
        if db_status() is None:
            pytest.skip("/status does not answer; cannot order the check")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(b"READY=1", ("\0" + path[1:]) if path.startswith("@") else path)
        go1.touch()
        deadline = time.monotonic() + 5
        while (db_status() or {}).get("status") != "after-stranger":
            assert time.monotonic() < deadline, f"STATUS= never arrived: {db_status()}"
            time.sleep(0.02)  # polling /status, bounded
        st = db_status()
        assert st["state"] == "starting" and not st["ready"], f"a stranger made db ready: {st}"
        assert read_events(events) == []
        go2.touch()
        evts = wait_ev(r, events, 1, "api", "started", timeout=5)
        assert stop_and_wait(r) == 0
    assert times(evts, "api", "started")[0] > times(evts, "db", "notifying")[0]
