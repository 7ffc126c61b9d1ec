"""`supervisor probe [livez|readyz|healthz]`: the curl-free health check for
Docker's HEALTHCHECK, podman's --health-cmd and Kubernetes' exec probes.
Exit 0 on HTTP 200 printing nothing; exit 1 with the ?verbose list on stdout
(or why it cannot reach the endpoint on stderr); exit 2 for usage errors."""
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import BIN, Run, free_port, wait_http, write_config


def probe(*args, timeout=15, cwd=None, env=None):
    t0 = time.monotonic()
    p = subprocess.run([BIN, "probe", *args], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, cwd=cwd, env=env)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def config(port, listen=None, drain="0s", slow=False):
    text = f"""
[supervisor]
health_listen = "{listen or f'127.0.0.1:{port}'}"
drain_delay = "{drain}"
[services.db]
command = ["sleep", "1000"]
"""
    if slow:
        # Never ready: stays `starting` for the whole test.
        text += """
[services.slow]
command = ["sleep", "1000"]
critical = false
[services.slow.ready]
exec = ["false"]
interval = "100ms"
start_timeout = "1h"
"""
    return text


def wait_ready(port):
    wait_http(port, "/readyz", timeout=10)


def test_ready_services_exit_0_printing_nothing(tmp_path):
    port = free_port()
    path = write_config(tmp_path, config(port))
    with Run(["run", "-c", path]) as r:
        wait_ready(port)
        for args in ([], ["healthz"], ["readyz"], ["livez"]):
            code, out, err, _ = probe(*args, "--addr", f"127.0.0.1:{port}")
            assert (code, out, err) == (0, "", ""), (args, code, out, err)
        # The address from the configuration, as `status` finds it.
        assert probe("-c", path)[:3] == (0, "", "")
        env = dict(os.environ, SUPERVISOR_CONFIG=path)
        assert probe(env=env)[:3] == (0, "", "")
        (tmp_path / "cwd").mkdir()
        (tmp_path / "cwd" / "supervisor.toml").write_text(config(port))
        env = {k: v for k, v in os.environ.items() if k != "SUPERVISOR_CONFIG"}
        assert probe(cwd=str(tmp_path / "cwd"), env=env)[:3] == (0, "", "")
        r.signal(signal.SIGTERM)
        assert r.wait() == 0


@pytest.mark.parametrize("listen,connect", [
    ("0.0.0.0:{port}", "127.0.0.1"),
    (":{port}", "127.0.0.1"),
    ("[::]:{port}", "::1"),
])
def test_a_wildcard_listen_address_is_reached_on_loopback(tmp_path, listen, connect):
    if connect == "::1" and not socket.has_ipv6:
        pytest.skip("no IPv6")
    port = free_port()
    path = write_config(tmp_path, config(port, listen=listen.format(port=port)))
    with Run(["run", "-c", path]) as r:
        deadline = time.monotonic() + 10
        while True:
            code, out, err, _ = probe("-c", path)
            if code == 0:
                break
            assert time.monotonic() < deadline, (code, out, err, r.err.text())
            time.sleep(0.05)  # bounded wait for the endpoint and the service
        assert out == "" and err == ""
        r.signal(signal.SIGTERM)
        assert r.wait() == 0


def test_a_starting_service_exits_1_with_the_verbose_list(tmp_path):
    port = free_port()
    path = write_config(tmp_path, config(port, slow=True))
    with Run(["run", "-c", path]) as r:
        wait_http(port, "/livez")
        r.err.wait_for(r"db: ready")
        code, out, err, _ = probe("-c", path)
        assert code == 1, (out, err)
        assert "[+]db ok" in out, out
        assert "[-]slow not ready: starting" in out, out
        assert "healthz check failed" in out, out
        assert err == ""
        code, out, _, _ = probe("readyz", "-c", path)
        assert code == 1 and "[-]slow not ready: starting" in out and "readyz check failed" in out, out
        # The supervisor itself is alive: livez stays 0.
        assert probe("livez", "-c", path)[:3] == (0, "", "")
        r.signal(signal.SIGTERM)
        r.wait()


def test_draining_exits_1_while_livez_stays_0(tmp_path):
    port = free_port()
    path = write_config(tmp_path, config(port, drain="3s"))
    with Run(["run", "-c", path]) as r:
        wait_ready(port)
        assert probe("-c", path)[0] == 0
        r.signal(signal.SIGTERM)
        r.err.wait_for("draining")
        code, out, err, _ = probe("-c", path)
        assert code == 1, (out, err)
        assert "[+]db ok" in out and "shutting down" in out and "healthz check failed" in out, out
        code, out, _, _ = probe("readyz", "--addr", f"127.0.0.1:{port}")
        assert code == 1 and "shutting down" in out, out
        assert probe("livez", "-c", path)[:3] == (0, "", "")
        assert r.wait() == 0


def test_nothing_listening_exits_1_naming_the_address():
    port = free_port()
    code, out, err, elapsed = probe("--addr", f"127.0.0.1:{port}")
    assert code == 1 and out == ""
    assert err == f"supervisor: cannot reach 127.0.0.1:{port}: Connection refused\n", err
    assert elapsed < 5


def test_no_configuration_file_means_the_default_address(tmp_path):
    if os.path.exists("/etc/supervisor/supervisor.toml"):
        pytest.skip("this machine has /etc/supervisor/supervisor.toml")
    env = {k: v for k, v in os.environ.items() if k != "SUPERVISOR_CONFIG"}
    code, out, err, _ = probe(cwd=str(tmp_path), env=env, timeout=15)
    if code == 0:
        return  # something answers 200 on 127.0.0.1:9180 here: the default was used
    assert code == 1, (out, err)
    if err:
        assert "127.0.0.1:9180" in err, err
    else:
        assert out, "exit 1 with nothing said"


def test_an_explicit_configuration_that_is_missing_exits_2(tmp_path):
    code, out, err, _ = probe("-c", str(tmp_path / "missing.toml"))
    assert code == 2 and "missing.toml" in err, err


def test_the_endpoint_turned_off_exits_1(tmp_path):
    path = write_config(tmp_path, '[supervisor]\nhealth_listen = ""\n[services.a]\ncommand = ["true"]\n')
    code, out, err, _ = probe("-c", path)
    assert code == 1 and out == "" and "off" in err, err


class SilentServer(threading.Thread):
    """Accepts connections and never answers."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.conns = []

    def run(self):
        self.sock.settimeout(0.2)
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
                self.conns.append(conn)
            except OSError:
                continue
        for c in self.conns:
            c.close()

    def stop(self):
        self.done.set()
        self.join(5)
        self.sock.close()


@pytest.mark.parametrize("timeout,seconds,said", [("1s", 1.0, "1s"), ("1500ms", 1.5, "1.5s")])
def test_timeout_bounds_a_server_that_never_answers(timeout, seconds, said):
    srv = SilentServer()
    srv.start()
    try:
        code, out, err, elapsed = probe("--addr", f"127.0.0.1:{srv.port}", "--timeout", timeout)
    finally:
        srv.stop()
    assert code == 1 and out == ""
    assert seconds - 0.1 <= elapsed < seconds + 1.0, elapsed
    assert f"cannot reach 127.0.0.1:{srv.port}: no answer within {said}" in err, err


def test_default_timeout_is_5s():
    srv = SilentServer()
    srv.start()
    try:
        code, _, err, elapsed = probe("--addr", f"127.0.0.1:{srv.port}")
    finally:
        srv.stop()
    assert code == 1
    assert 4.9 <= elapsed < 6.0, elapsed
    assert "no answer within 5s" in err, err


def test_an_answer_that_is_not_http_exits_1():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]

        def serve():
            conn, _ = s.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        code, out, err, _ = probe("--addr", f"127.0.0.1:{port}")
        t.join(5)
    assert code == 1 and out == ""
    assert f"127.0.0.1:{port} did not answer in HTTP" in err, err


@pytest.mark.parametrize("args,message", [
    (["startz"], "unknown endpoint 'startz'"),
    (["readyz", "livez"], "unexpected argument 'livez'"),
    (["--bogus"], "unknown option '--bogus'"),
    (["--timeout", "soon"], "invalid duration 'soon'"),
    (["--timeout", "0"], "more than 0"),
    (["--timeout"], "needs a value"),
    (["--addr", "nonsense"], "invalid address 'nonsense'"),
    (["--json"], "does not take --json"),
    (["-c", "x.toml", "--addr", "127.0.0.1:1"], "not both"),
])
def test_usage_errors_exit_2(args, message):
    code, out, err, _ = probe(*args)
    assert code == 2, (args, out, err)
    assert out == ""
    assert err.startswith("supervisor: ") and message in err, err
    if message != "invalid address 'nonsense'":
        assert err.endswith("Try 'supervisor --help'.\n"), err


def test_help():
    code, out, err, _ = probe("--help")
    assert code == 0 and err == ""
    for word in ("livez", "readyz", "healthz", "--addr", "--timeout", "-c"):
        assert word in out
    p = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=10)
    assert "supervisor probe" in p.stdout
