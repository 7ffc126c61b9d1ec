"""The HTTP endpoint end to end (docs/health.md, drain in docs/lifecycle.md): the real
binary on a free loopback port, probed with http.client and raw sockets.
Every wait is bounded; times are CLOCK_MONOTONIC (time.monotonic() here, the
`stamp` helper in the services)."""
import http.client
import json
import re
import select
import signal
import socket
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import (Run, free_port, get_json, helper, http_get, listening_sockets, raw_exchange,
                      read_events, wait_events, wait_http, write_config)

STAMP = helper("stamp")
STATES = {"pending", "starting", "ready", "unhealthy", "stopping", "backoff", "completed", "exited",
          "failed"}
SECRET_ENV = "envSecret-7f3a91c2"
SECRET_ARGV = "argvSecret-b84e0d5f"


def get(port, path, method="GET", timeout=5.0):
    """(status, headers dict lower-cased, body) of one request on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path)
        r = conn.getresponse()
        body = r.read().decode()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        conn.close()


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.02)  # bounded polling of the endpoint


def metrics(port):
    """The /metrics samples as {(name, frozenset(labels)): value}, through Prometheus' own parser."""
    st, hdrs, body = get(port, "/metrics")
    assert st == 200
    assert hdrs["content-type"].startswith("text/plain; version=0.0.4"), hdrs
    out, types = {}, {}
    for fam in text_string_to_metric_families(body):  # raises on malformed text
        types[fam.name] = fam.type
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out, types, body


def sample(m, name, **labels):
    key = (name, frozenset(labels.items()))
    assert key in m, f"no sample {name}{labels}; have {sorted(k[0] for k in m)}"
    return m[key]


# ---- /livez, /readyz, /healthz while starting and once ready ---------------


def test_readyz_follows_readiness_and_livez_is_ok(tmp_path):
    port = free_port()
    flag = tmp_path / "flag"
    cfg = f"""
[supervisor]
health_listen = "127.0.0.1:{port}"
[services.db]
command = ["sleep", "1000"]
[services.api]
command = ["sleep", "1000"]
[services.api.ready]
exec = ["test", "-f", "{flag}"]
interval = "50ms"
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        assert wait_http(port, "/livez") == "ok\n"
        st, hdrs, body = get(port, "/livez")
        assert (st, body.strip()) == (200, "ok")
        assert hdrs["content-type"].startswith("text/plain")
        wait_until(lambda: {s["name"]: s["state"] for s in get_json(port)["services"]}["db"] == "ready",
                   5, "db ready")
        # api waits on the flag file: not ready, and neither is the group.
        for path in ("/readyz", "/healthz"):
            st, _, body = get(port, path)
            assert st == 503, (path, body)
        for path, word in (("/readyz?verbose", "readyz"), ("/healthz?verbose", "healthz")):
            st, _, body = get(port, path)
            assert st == 503
            lines = body.splitlines()
            assert "[+]db ok" in lines, body
            assert "[-]api not ready: starting" in lines, body
            assert lines[-1] == f"{word} check failed", body
        status = get_json(port)
        assert status["state"] == "starting"
        api = {s["name"]: s for s in status["services"]}["api"]
        assert api["state"] == "starting" and api["ready"] is False and isinstance(api["pid"], int)

        flag.write_text("")
        assert wait_http(port, "/readyz", timeout=5) == "ok\n"
        st, _, body = get(port, "/healthz")
        assert (st, body) == (200, "ok\n")
        for path, word in (("/readyz?verbose", "readyz"), ("/healthz?verbose", "healthz")):
            st, _, body = get(port, path)
            assert st == 200
            assert body.splitlines() == ["[+]db ok", "[+]api ok", f"{word} check passed"], body
        status = get_json(port)
        assert status["state"] == "running"
        assert all(s["state"] == "ready" and s["ready"] is True for s in status["services"])
        r.signal(signal.SIGTERM)
        assert r.wait() == 0


# ---- drain: 503 at once, services stopped after drain_delay, /livez all along


class Poller(threading.Thread):
    """GETs `path` in a loop on fresh connections, recording (sent, received, status or None)."""

    def __init__(self, port, path):
        super().__init__(daemon=True)
        self.port, self.path = port, path
        self.results = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                st, _ = http_get(self.port, self.path, timeout=2)
            except OSError:
                st = None
            self.results.append((t0, time.monotonic(), st))
            time.sleep(0.01)  # pacing, not an assertion


@pytest.mark.parametrize("pid1", [pytest.param(False, id="plain"), pytest.param(True, id="pid1")])
def test_drain_answers_503_at_once_and_livez_until_the_end(tmp_path, events, pid1):
    port = free_port()
    # On SIGTERM the service stamps "stopped", takes 1 s to finish, stamps "exiting".
    script = (f"trap '{STAMP} {events} web stopped; sleep 1; {STAMP} {events} web exiting; exit 0' TERM; "
              f"{STAMP} {events} web started; sleep infinity & wait")
    cfg = f"""
[supervisor]
health_listen = "127.0.0.1:{port}"
drain_delay = "2s"
[services.web]
command = ["bash", "-c", "{script}"]
stop_grace = "10s"
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        wait_events(events, 1, "web", "started")
        wait_http(port, "/readyz", timeout=5)
        m, _, _ = metrics(port)
        assert sample(m, "supervisor_shutting_down") == 0
        pollers = {p: Poller(port, p) for p in ("/readyz", "/healthz", "/livez")}
        for p in pollers.values():
            p.start()
        wait_until(lambda: len(pollers["/livez"].results) > 3, 5, "pollers running")
        t_sig = time.monotonic()  # taken before the kill: the drain cannot start earlier
        r.signal(signal.SIGTERM)

        # During the drain: 503, "stopping", shutting_down 1, the service still runs.
        wait_until(lambda: get(port, "/readyz")[0] == 503, 1.0, "/readyz 503 after SIGTERM")
        st, _, body = get(port, "/readyz?verbose")
        assert st == 503 and "[-]shutdown not ready: shutting down" in body.splitlines(), body
        status = get_json(port)
        m, _, _ = metrics(port)
        still_draining = not any(e[1] == "stopped" for e in read_events(events))
        assert still_draining, "the drain ended before the checks ran"
        assert status["state"] == "stopping"
        web = status["services"][0]
        assert isinstance(web["pid"], int) and web["pid"] > 0, web
        assert sample(m, "supervisor_shutting_down") == 1
        assert sample(m, "supervisor_service_up", service="web") == 1

        assert r.wait(15) == 0
        for p in pollers.values():
            p.stop.set()
        for p in pollers.values():
            p.join(5)

    evts = read_events(events)
    stopped = [int(e[2]) / 1e9 for e in evts if e[:2] == ("web", "stopped")][0]
    exiting = [int(e[2]) / 1e9 for e in evts if e[:2] == ("web", "exiting")][0]
    assert 2.0 <= stopped - t_sig < 3.5, f"stop signal {stopped - t_sig:.3f}s after SIGTERM"

    for path in ("/readyz", "/healthz"):
        res = pollers[path].results
        before = [x for x in res if x[1] < t_sig]
        assert before and all(x[2] == 200 for x in before), (path, before[-5:])
        first = next((x for x in res if x[2] == 503), None)
        assert first is not None, f"{path} never answered 503"
        assert first[1] < stopped, f"{path}: first 503 at +{first[1] - t_sig:.3f}s, stop at +{stopped - t_sig:.3f}s"
        assert first[1] - t_sig < 0.5, f"{path}: first 503 only {first[1] - t_sig:.3f}s after SIGTERM"
        after = [x for x in res if x[0] >= first[1]]
        assert not [x for x in after if x[2] == 200], f"{path} answered 200 again during the shutdown"

    res = pollers["/livez"].results
    failed = [x for x in res if x[2] != 200 and x[1] < exiting]
    assert not failed, f"/livez failed during the shutdown: {[(round(a - t_sig, 3), s) for a, _, s in failed]}"
    ok_times = [x[1] for x in res if x[2] == 200 and t_sig <= x[1] <= exiting]
    assert ok_times and ok_times[-1] > stopped, "no /livez answer while the service was stopping"
    gaps = [b - a for a, b in zip([t_sig] + ok_times, ok_times + [exiting])]
    assert max(gaps) < 0.5, f"/livez went {max(gaps):.3f}s without an answer during the shutdown"


# ---- /status and /metrics ---------------------------------------------------


def services_config(port, tmp_path):
    return f"""
[supervisor]
health_listen = "127.0.0.1:{port}"
[services.up]
command = ["sh", "-c", "exec sleep 1000", "{SECRET_ARGV}"]
env = {{ TOKEN = "{SECRET_ENV}" }}
[services.shell]
command = "sleep 1001 # {SECRET_ARGV}"
env = {{ PASSWORD = "{SECRET_ENV}" }}
[services.code3]
command = ["bash", "-c", "exit 3"]
critical = false
[services.killed]
command = ["bash", "-c", "kill -TERM $$"]
critical = false
[services.crashy]
command = ["bash", "-c", "exit 1"]
critical = false
restart = "always"
restart_delay = "50ms"
restart_delay_max = "50ms"
max_restarts = 3
"""


def settled(port):
    st = {s["name"]: s for s in get_json(port)["services"]}
    return (st["crashy"]["state"] == "failed" and st["code3"]["state"] == "exited"
            and st["killed"]["state"] == "exited" and st["up"]["state"] == "ready"
            and st["shell"]["state"] == "ready")


def check_status_shape(doc):
    assert set(doc) == {"state", "uptime_seconds", "services"}, doc.keys()
    assert doc["state"] in ("starting", "running", "stopping")
    assert type(doc["uptime_seconds"]) is int and doc["uptime_seconds"] >= 0
    assert isinstance(doc["services"], list)
    required = {"name", "state", "pid", "ready", "restarts", "last_exit", "since_seconds"}
    for s in doc["services"]:
        assert required <= set(s), s
        assert set(s) - required <= {"status", "reason"}, f"undocumented fields: {set(s) - required}"
        assert type(s["name"]) is str
        assert s["state"] in STATES, s
        assert s["pid"] is None or (type(s["pid"]) is int and s["pid"] > 0), s
        assert type(s["ready"]) is bool
        assert type(s["restarts"]) is int and s["restarts"] >= 0
        assert type(s["since_seconds"]) is int and s["since_seconds"] >= 0
        le = s["last_exit"]
        assert le is None or (set(le) == {"code"} and type(le["code"]) is int) or \
            (set(le) == {"signal"} and type(le["signal"]) is str and le["signal"].startswith("SIG")), s


def test_status_json_shape_and_last_exit(tmp_path):
    port = free_port()
    with Run(["run", "-c", write_config(tmp_path, services_config(port, tmp_path))]) as r:
        wait_http(port, "/livez")
        check_status_shape(get_json(port))
        wait_until(lambda: settled(port), 10, "services settled")
        doc = get_json(port)
        check_status_shape(doc)
        assert doc["state"] == "running"
        svc = {s["name"]: s for s in doc["services"]}
        assert set(svc) == {"up", "shell", "code3", "killed", "crashy"}
        assert svc["up"]["ready"] is True and type(svc["up"]["pid"]) is int and svc["up"]["last_exit"] is None
        assert svc["up"]["restarts"] == 0
        assert svc["code3"]["last_exit"] == {"code": 3}
        assert svc["code3"]["pid"] is None and svc["code3"]["ready"] is False
        assert svc["killed"]["last_exit"] == {"signal": "SIGTERM"}
        assert svc["killed"]["pid"] is None
        assert svc["crashy"]["restarts"] == 3 and svc["crashy"]["last_exit"] == {"code": 1}
        assert svc["crashy"]["pid"] is None
        # The pid is the service's real process.
        with open(f"/proc/{svc['up']['pid']}/cmdline", "rb") as f:
            assert f.read().split(b"\0")[:2] == [b"sleep", b"1000"]
        r.signal(signal.SIGTERM)
        assert r.wait() == 0


def test_nothing_exposes_env_or_argv(tmp_path):
    port = free_port()
    with Run(["run", "-c", write_config(tmp_path, services_config(port, tmp_path))]) as r:
        wait_http(port, "/livez")
        wait_until(lambda: settled(port), 10, "services settled")
        # The secrets are really there, in the processes the supervisor started.
        pid = {s["name"]: s["pid"] for s in get_json(port)["services"]}["up"]
        with open(f"/proc/{pid}/environ", "rb") as f:
            assert SECRET_ENV.encode() in f.read()
        paths = ["/status", "/metrics", "/readyz?verbose", "/healthz?verbose", "/readyz", "/healthz",
                 "/readyz/up", "/readyz/shell", "/readyz/code3", "/livez", "/nope"]
        for path in paths:
            st, hdrs, body = get(port, path)
            text = body + json.dumps(hdrs)
            assert SECRET_ENV not in text and SECRET_ARGV not in text, f"{path} leaks: {body}"
            assert "sleep 100" not in text, f"{path} shows a command line: {body}"
        r.signal(signal.SIGTERM)
        assert r.wait() == 0


def test_metrics_parse_and_agree_with_status(tmp_path):
    port = free_port()
    with Run(["run", "-c", write_config(tmp_path, services_config(port, tmp_path))]) as r:
        wait_http(port, "/livez")
        wait_until(lambda: settled(port), 10, "services settled")
        status = get_json(port)
        m, types, body = metrics(port)
        assert types["supervisor_service_up"] == "gauge"
        assert types["supervisor_service_ready"] == "gauge"
        # The parser names a counter family without its _total suffix.
        assert types["supervisor_service_restarts"] == "counter"
        assert types["supervisor_reaped"] == "counter"
        assert types["supervisor_shutting_down"] == "gauge"
        for s in status["services"]:
            n = s["name"]
            assert sample(m, "supervisor_service_up", service=n) == (1 if s["pid"] else 0), n
            assert sample(m, "supervisor_service_ready", service=n) == (1 if s["ready"] else 0), n
            assert sample(m, "supervisor_service_restarts_total", service=n) == s["restarts"], n
        assert sample(m, "supervisor_service_restarts_total", service="crashy") == 3
        assert sample(m, "supervisor_shutting_down") == 0
        # crashy ran 4 times, code3 and killed once: at least 6 children reaped.
        assert sample(m, "supervisor_reaped_total") >= 6
        services = {dict(k[1]).get("service") for k in m if k[0].startswith("supervisor_service_")}
        assert services == {"up", "shell", "code3", "killed", "crashy"}
        r.signal(signal.SIGTERM)
        assert r.wait() == 0


# ---- HTTP protocol: methods, paths, limits, HEAD, keep-alive ----------------


@pytest.fixture
def server(tmp_path):
    port = free_port()
    cfg = f"""
[supervisor]
health_listen = "127.0.0.1:{port}"
[services.db]
command = ["sleep", "1000"]
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        wait_http(port, "/readyz")
        yield port
        r.signal(signal.SIGTERM)
        assert r.wait() == 0


def split_response(data):
    headers, _, body = data.partition(b"\r\n\r\n")
    lines = headers.decode().split("\r\n")
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return lines[0], hdrs, body


def test_methods_other_than_get_and_head_get_405(server):
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        for path in ("/livez", "/status"):
            st, hdrs, _ = get(server, path, method=method)
            assert st == 405, (method, path)
            assert [m.strip() for m in hdrs.get("allow", "").split(",")] == ["GET", "HEAD"], hdrs


def test_unknown_paths_get_404(server):
    for path in ("/", "/nope", "/livezz", "/status/x", "/metrics2", "/readyz/nosuchservice"):
        st, _, _ = get(server, path)
        assert st == 404, path


def test_head_has_headers_and_no_body(server):
    for path in ("/livez", "/status", "/metrics"):
        _, _, get_body = get(server, path)
        data, closed = raw_exchange(server, f"HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert closed
        line, hdrs, body = split_response(data)
        assert line.startswith("HTTP/1.1 200"), line
        assert body == b"", f"HEAD {path} sent a body: {body[:80]!r}"
        assert int(hdrs["content-length"]) == len(get_body.encode()), (path, hdrs)


def test_request_head_over_8k_gets_431_and_close(server):
    big = b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"
    data, closed = raw_exchange(server, big, timeout=5)
    assert data.startswith(b"HTTP/1.1 431"), data[:100]
    assert b"\r\nconnection: close\r\n" in data.lower()
    assert closed, "the connection stayed open after 431"
    # The bound is exact: 8192 bytes up to and including the empty line.
    base = b"GET /livez HTTP/1.1\r\nConnection: close\r\nX-Pad: "
    for total, want in ((8192, b"HTTP/1.1 200"), (8193, b"HTTP/1.1 431")):
        req = base + b"a" * (total - len(base) - 4) + b"\r\n\r\n"
        assert len(req) == total
        data, closed = raw_exchange(server, req, timeout=5)
        assert data.startswith(want), (total, data[:100])
        assert closed


def test_keep_alive_serves_two_requests_on_one_connection(server):
    with socket.create_connection(("127.0.0.1", server), timeout=5) as s:
        answers = []
        for path in ("/livez", "/readyz"):
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(4096)
                assert chunk, f"closed before answering {path}"
                buf += chunk
            line, hdrs, body = split_response(buf)
            while len(body) < int(hdrs["content-length"]):
                chunk = s.recv(4096)
                assert chunk
                body += chunk
            assert hdrs.get("connection", "").lower() != "close"
            answers.append((line, body))
        assert answers == [("HTTP/1.1 200 OK", b"ok\n"), ("HTTP/1.1 200 OK", b"ok\n")]


def test_pipelined_requests_are_answered_in_order_and_http10_closes(server):
    data, closed = raw_exchange(server, b"GET /livez HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n"
                                        b"GET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert closed
    assert re.findall(rb"HTTP/1\.1 \d+ [A-Za-z ]+\r\n", data) == \
        [b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 404 Not Found\r\n", b"HTTP/1.1 200 OK\r\n"], data
    data, closed = raw_exchange(server, b"GET /livez HTTP/1.0\r\n\r\n", timeout=3)
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"\r\n\r\nok\n"), data
    assert closed, "an HTTP/1.0 request without keep-alive must close the connection"


# ---- connection bounds ------------------------------------------------------


def test_500_idle_connections_do_not_block_livez_and_at_most_256_stay_open(server):
    socks = []
    try:
        for _ in range(500):
            socks.append(socket.create_connection(("127.0.0.1", server), timeout=5))
        t0 = time.monotonic()
        st, body = http_get(server, "/livez", timeout=1)
        assert (st, body) == (200, "ok\n")
        assert time.monotonic() - t0 < 1.0

        def closed_count():
            p = select.poll()
            for s in socks:
                p.register(s, select.POLLIN)
            return sum(1 for _, ev in p.poll(0) if ev & (select.POLLIN | select.POLLHUP | select.POLLERR))

        # Eviction happens as the server accepts; give the FINs a bounded moment.
        deadline = time.monotonic() + 2
        while closed_count() < 500 - 256 and time.monotonic() < deadline:
            time.sleep(0.02)
        still_open = 500 - closed_count()
        # 5 s after the accept the head timeout closes them all: count well before.
        assert time.monotonic() - t0 < 4
        assert still_open <= 256, f"{still_open} idle connections kept open"
        assert still_open >= 240, f"only {still_open} kept: the server closes more than it must"
        # The ones closed are the oldest.
        p = select.poll()
        for s in socks:
            p.register(s, select.POLLIN)
        closed_fds = {fd for fd, _ in p.poll(0)}
        order = [i for i, s in enumerate(socks) if s.fileno() in closed_fds]
        assert max(order) < 500 - 200, "a recent idle connection was closed before older ones"
    finally:
        for s in socks:
            s.close()


def test_request_head_must_arrive_within_5s(server):
    half = socket.create_connection(("127.0.0.1", server), timeout=10)
    silent = socket.create_connection(("127.0.0.1", server), timeout=10)
    drip = socket.create_connection(("127.0.0.1", server), timeout=10)
    t0 = time.monotonic()
    half.sendall(b"GET /livez HT")
    drip_data = b"GET /livez HTTP/1.1\r\n" + b"X-Slow: " + b"a" * 200
    conns = {half: b"", silent: b"", drip: b""}
    closed_at = {}
    sent = 0
    try:
        deadline = t0 + 10
        while len(closed_at) < 3 and time.monotonic() < deadline:
            # A byte every 100 ms keeps the dripping client "active" all along.
            if drip not in closed_at and sent < len(drip_data):
                try:
                    drip.send(drip_data[sent:sent + 1])
                    sent += 1
                except OSError:
                    pass
            readable, _, _ = select.select([s for s in conns if s not in closed_at], [], [], 0.1)
            for s in readable:
                try:
                    chunk = s.recv(4096)
                except ConnectionResetError:
                    chunk = b""
                if chunk:
                    conns[s] += chunk
                else:
                    closed_at[s] = time.monotonic() - t0
        assert len(closed_at) == 3, f"not all closed within 10s: {closed_at}"
        for name, s in (("half", half), ("silent", silent), ("drip", drip)):
            assert 4.0 <= closed_at[s] <= 8.0, f"{name} closed after {closed_at[s]:.2f}s"
        assert conns[half].startswith(b"HTTP/1.1 408"), conns[half][:80]
        assert conns[drip].startswith(b"HTTP/1.1 408"), conns[drip][:80]
        assert conns[silent] == b""
        # Meanwhile the endpoint answered others.
        assert http_get(server, "/livez", timeout=1) == (200, "ok\n")
    finally:
        for s in conns:
            s.close()


# ---- turning the endpoint off and on ----------------------------------------


def test_empty_health_listen_turns_the_endpoint_off(tmp_path, events):
    cfg = f"""
[supervisor]
health_listen = ""
[services.db]
command = ["bash", "-c", "{STAMP} {events} db started; exec sleep 1000"]
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        wait_events(events, 1, "db", "started")
        assert listening_sockets(r.proc.pid) == []
        r.signal(signal.SIGTERM)
        assert r.wait() == 0


def test_health_listen_flag_overrides_the_config(tmp_path, events):
    p_cfg, p_flag = free_port(), free_port()
    while p_flag == p_cfg:
        p_flag = free_port()
    cfg = f"""
[supervisor]
health_listen = "127.0.0.1:{p_cfg}"
[services.db]
command = ["sleep", "1000"]
"""
    path = write_config(tmp_path, cfg)
    with Run(["run", "-c", path, "--health-listen", f"127.0.0.1:{p_flag}"]) as r:
        assert wait_http(p_flag, "/readyz") == "ok\n"
        with pytest.raises(ConnectionRefusedError):
            http_get(p_cfg, "/livez", timeout=2)
        assert len(listening_sockets(r.proc.pid)) == 1
        r.signal(signal.SIGTERM)
        assert r.wait() == 0
    # "" on the command line turns off what the file turns on.
    off = write_config(tmp_path, cfg.replace('"sleep", "1000"', f'"bash", "-c", "{STAMP} {events} db started; exec sleep 1000"'),
                       name="off.toml")
    with Run(["run", "-c", off, "--health-listen", ""]) as r:
        wait_events(events, 1, "db", "started")
        assert listening_sockets(r.proc.pid) == []
        r.signal(signal.SIGTERM)
        assert r.wait() == 0


def test_single_command_mode_has_an_endpoint_only_with_the_flag(tmp_path, events):
    with Run(["run", "--", "bash", "-c", f"{STAMP} {events} cmd started; exec sleep 1000"],
             env={"SUPERVISOR_CONFIG": "/nonexistent"}) as r:
        wait_events(events, 1, "cmd", "started")
        assert listening_sockets(r.proc.pid) == []
        r.signal(signal.SIGTERM)
        assert r.wait() == 128 + signal.SIGTERM
    port = free_port()
    with Run(["run", "--health-listen", f"127.0.0.1:{port}", "--", "sleep", "1000"]) as r:
        assert wait_http(port, "/livez") == "ok\n"
        doc = get_json(port)
        check_status_shape(doc)
        assert len(doc["services"]) == 1 and doc["services"][0]["pid"]
        assert wait_http(port, "/readyz", timeout=5) == "ok\n"
        r.signal(signal.SIGTERM)
        assert r.wait() == 128 + signal.SIGTERM


def get_from(host, port, path):
    conn = http.client.HTTPConnection(host, port, timeout=2)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


# docs/health.md: 127.0.0.1:P, [::1]:P, [::]:P (dual-stack), :P (both
# families), localhost:P. `reach`: the loopback addresses that must answer.
ADDRESS_FORMS = [
    ("127.0.0.1:{p}", ["127.0.0.1"]),
    ("0.0.0.0:{p}", ["127.0.0.1"]),
    ("[::1]:{p}", ["::1"]),
    ("[::]:{p}", ["127.0.0.1", "::1"]),
    (":{p}", ["127.0.0.1", "::1"]),
    ("localhost:{p}", ["127.0.0.1"]),
]


@pytest.mark.parametrize("form,reach,via", [
    pytest.param(f, r, via, id=f"{f.split(':{')[0] or 'empty-host'}-{via}")
    for f, r in ADDRESS_FORMS for via in ("config", "flag")])
def test_health_listen_address_forms(tmp_path, events, form, reach, via):
    port = free_port()
    addr = form.format(p=port)
    head = "" if via == "flag" else f'health_listen = "{addr}"\n'
    cfg = f'[supervisor]\n{head}[services.db]\ncommand = ["sleep", "1000"]\n'
    args = ["run", "-c", write_config(tmp_path, cfg)] + (["--health-listen", addr] if via == "flag" else [])
    with Run(args) as r:
        for host in reach:
            deadline = time.monotonic() + 5
            while True:
                try:
                    assert get_from(host, port, "/livez") == (200, "ok\n")
                    break
                except OSError as e:
                    assert r.proc.poll() is None, f"supervisor exited: {r.err.text()}"
                    assert time.monotonic() < deadline, f"{addr}: {host} not answering: {e}"
                    time.sleep(0.02)  # bounded wait for the listener
        r.signal(signal.SIGTERM)
        assert r.wait() == 0
