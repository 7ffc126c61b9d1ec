"""`supervisor status` (docs/health.md): asks a running supervisor's
/status and prints a table, or the raw JSON with --json."""
import json
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import BIN, Run, free_port, get_json, wait_http, write_config

HEADER = ["NAME", "STATE", "PID", "READY", "RESTARTS", "UPTIME", "LAST EXIT"]
SECRET = "cliSecret-51c0ffee"


def status(*args, timeout=15):
    t0 = time.monotonic()
    p = subprocess.run([BIN, "status", *args], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def parse_table(text):
    """Splits the table at the header's column starts; checks every row lines up."""
    lines = text.rstrip("\n").split("\n")
    header = lines[0]
    starts = [header.index(h) for h in HEADER]
    assert starts == sorted(starts), header
    assert [header[a:b].strip() for a, b in zip(starts, starts[1:] + [None])] == HEADER, header
    rows = []
    for line in lines[1:]:
        cells = [line[a:b] for a, b in zip(starts, starts[1:] + [None])]
        # A cell starts at its column and never runs into the next one.
        for i, c in enumerate(cells):
            assert c and not c[0].isspace(), f"row misaligned at {HEADER[i]}: {line!r}\n{text}"
            if i + 1 < len(cells):
                assert c.endswith(" "), f"no gap after {HEADER[i]}: {line!r}"
        rows.append([c.strip() for c in cells])
    return rows


@pytest.fixture
def stack(tmp_path):
    """A running supervisor with a ready service, one that exited 3, one killed by SIGTERM."""
    port = free_port()
    cfg = f"""
[supervisor]
health_listen = "0.0.0.0:{port}"
[services.web]
command = ["sh", "-c", "exec sleep 1000", "{SECRET}"]
env = {{ TOKEN = "{SECRET}" }}
[services.code3]
command = ["bash", "-c", "exit 3"]
critical = false
[services.killed]
command = ["bash", "-c", "kill -TERM $$"]
critical = false
"""
    path = write_config(tmp_path, cfg)
    with Run(["run", "-c", path]) as r:
        wait_http(port, "/livez")
        deadline = time.monotonic() + 10
        while True:
            doc = get_json(port)
            states = {s["name"]: s["state"] for s in doc["services"]}
            if states == {"web": "ready", "code3": "exited", "killed": "exited"}:
                break
            assert time.monotonic() < deadline, states
            time.sleep(0.02)  # bounded wait for the services to settle
        yield port, path
        r.signal(signal.SIGTERM)
        assert r.wait() == 0


def test_table_has_header_and_one_row_per_service(stack):
    port, _ = stack
    code, out, err, _ = status("--addr", f"127.0.0.1:{port}")
    assert code == 0, err
    rows = parse_table(out)
    by_name = {r[0]: r for r in rows}
    assert len(rows) == 3 and set(by_name) == {"web", "code3", "killed"}, out
    pid = {s["name"]: s["pid"] for s in get_json(port)["services"]}["web"]
    web = by_name["web"]
    assert web[1:5] == ["ready", str(pid), "yes", "0"], out
    assert web[5].endswith("s") and web[5][:-1].isdigit(), f"uptime {web[5]!r}"
    assert web[6] == "-"
    assert by_name["code3"][1:] == ["exited", "-", "no", "0", "-", "exit 3"], out
    assert by_name["killed"][1:] == ["exited", "-", "no", "0", "-", "SIGTERM"], out
    assert SECRET not in out


def test_json_is_the_status_document(stack):
    port, _ = stack
    code, out, err, _ = status("--addr", f"127.0.0.1:{port}", "--json")
    assert code == 0, err
    printed = json.loads(out)
    live = get_json(port)
    assert set(printed) == set(live) == {"state", "uptime_seconds", "services"}
    assert printed["state"] == live["state"] == "running"
    assert [set(s) for s in printed["services"]] == [set(s) for s in live["services"]]
    strip = lambda doc: [{k: v for k, v in s.items() if k != "since_seconds"} for s in doc["services"]]
    assert strip(printed) == strip(live)
    assert SECRET not in out


def test_config_file_gives_the_address(stack):
    # health_listen = "0.0.0.0:PORT": reached through 127.0.0.1.
    port, path = stack
    code, out, err, _ = status("-c", path)
    assert code == 0, err
    assert {r[0] for r in parse_table(out)} == {"web", "code3", "killed"}
    code, out, err, _ = status("-c", path, "--json")
    assert code == 0, err
    assert json.loads(out)["state"] == "running"


def test_unreachable_address_exits_3_naming_it():
    # 3: the supervisor cannot be reached, as for every control command.
    port = free_port()
    code, out, err, elapsed = status("--addr", f"127.0.0.1:{port}")
    assert code == 3
    assert f"127.0.0.1:{port}" in err, err
    assert "refused" in err.lower(), err
    assert out == ""
    assert elapsed < 5


def test_endpoint_and_control_socket_off_in_the_config_exits_3(tmp_path):
    path = write_config(tmp_path, '[supervisor]\nhealth_listen = ""\ncontrol_socket = ""\n'
                                  '[services.a]\ncommand = ["true"]\n')
    code, out, err, _ = status("-c", path)
    assert code == 3 and out == ""
    assert "off" in err, err


def test_usage_and_config_errors_exit_2(tmp_path):
    assert status("--addr", "nonsense")[0] == 2
    assert status("--bogus-flag")[0] == 2
    assert status("-c", str(tmp_path / "missing.toml"))[0] == 2


def test_help_exits_0():
    code, out, err, _ = status("--help")
    assert code == 0, err
    assert "status" in out and "--addr" in out and "--json" in out


class FakeServer(threading.Thread):
    """Accepts one connection and answers `reply` (None: never answers)."""

    def __init__(self, reply):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.done = threading.Event()

    def run(self):
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(10)
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buf += chunk
            if self.reply is not None:
                conn.sendall(self.reply)
            else:
                self.done.wait(10)


@pytest.mark.parametrize("reply", [
    pytest.param(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", id="500"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot json\n", id="not-json"),
    pytest.param(b"SSH-2.0-OpenSSH_9.2\r\n\r\n", id="not-http"),
])
def test_a_bad_answer_exits_1(reply):
    srv = FakeServer(reply)
    srv.start()
    code, out, err, _ = status("--addr", f"127.0.0.1:{srv.port}")
    srv.sock.close()
    assert code == 1, (out, err)
    assert f"127.0.0.1:{srv.port}" in err, err


def test_a_server_that_never_answers_is_given_up_after_5s():
    srv = FakeServer(None)
    srv.start()
    try:
        code, out, err, elapsed = status("--addr", f"127.0.0.1:{srv.port}")
    finally:
        srv.done.set()
        srv.sock.close()
    assert code == 1
    assert 4.0 <= elapsed < 8.0, elapsed
    assert f"127.0.0.1:{srv.port}" in err, err
