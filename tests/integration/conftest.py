"""Black-box harness: runs the built supervisor binary the way users do.

A `Run` starts the binary as a plain process or as PID 1 of a fresh PID
namespace (`unshare -fp --mount-proc`), captures stdout and stderr with
timestamps on arrival, and offers bounded waits: every wait has a timeout
and fails the test when it runs out. Nothing sleeps as an assertion.
"""
import os
import re
import signal
import socket
import subprocess
import threading
import time
import http.client

import pytest

BIN = os.environ.get("SUPERVISOR_BIN", os.path.join(os.path.dirname(__file__), "../../build/supervisor"))
HELPERS = os.environ.get("HELPERS_DIR", os.path.join(os.path.dirname(__file__), "../../build/helpers"))
SOURCE_DIR = os.environ.get("SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def helper(name):
    return os.path.join(HELPERS, name)


class Stream:
    """Collects a pipe's lines with their arrival time, in a thread."""

    def __init__(self, pipe):
        self.lines = []  # (monotonic time, text)
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self.thread.start()

    def _read(self, pipe):
        for raw in iter(pipe.readline, b""):
            with self.cond:
                self.lines.append((time.monotonic(), raw.decode("utf-8", "replace").rstrip("\n")))
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def text(self):
        with self.cond:
            return "\n".join(l for _, l in self.lines)

    def wait_for(self, pattern, timeout=10.0):
        """Waits until a line matches; returns (time, line)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, l in self.lines:
                    if rx.search(l):
                        return t, l
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise AssertionError(
                        f"no line matching {pattern!r} within {timeout}s; got:\n" + "\n".join(l for _, l in self.lines))
                self.cond.wait(left)


class Run:
    def __init__(self, args, pid1=False, env=None, cwd=None, stdin=subprocess.DEVNULL):
        self.pid1 = pid1
        cmd = [BIN] + args
        if pid1:
            cmd = ["unshare", "-fp", "--mount-proc"] + cmd
        full_env = dict(os.environ)
        full_env.pop("NOTIFY_SOCKET", None)
        full_env["NO_COLOR"] = "1"
        if env:
            full_env.update(env)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=stdin, env=full_env, cwd=cwd, start_new_session=True)
        self.out = Stream(self.proc.stdout)
        self.err = Stream(self.proc.stderr)

    @property
    def sv_pid(self):
        """The supervisor's pid as seen from here (unshare's child when pid1)."""
        if not self.pid1:
            return self.proc.pid
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                    kids = f.read().split()
                if kids:
                    return int(kids[0])
            except FileNotFoundError:
                break
            time.sleep(0.01)  # polling for the fork to happen, bounded
        raise AssertionError("unshare has no child")

    def signal(self, sig):
        os.kill(self.sv_pid, sig)
        return time.monotonic()

    def wait(self, timeout=15.0):
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"supervisor did not exit within {timeout}s; stderr:\n{self.err.text()}")
        self.out.thread.join(5)
        self.err.thread.join(5)
        return code

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # A test that leaves the supervisor running: stop it as a user would,
        # so that its services (each in a session of its own, out of reach of
        # the killpg below) do not outlive the test; SIGKILL if it hangs.
        if self.proc.poll() is None:
            try:
                os.kill(self.sv_pid, signal.SIGTERM)
                self.proc.wait(10)
            except (ProcessLookupError, AssertionError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            self.kill()


def write_config(tmp_path, text, name="supervisor.toml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def http_get(port, path, timeout=5.0, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path)
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def wait_http(port, path="/livez", timeout=10.0, status=200):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            st, body = http_get(port, path, timeout=1)
            if st == status:
                return body
            last = (st, body)
        except OSError as e:
            last = e
        time.sleep(0.02)  # bounded retry loop while the server comes up
    raise AssertionError(f"{path} did not answer {status} within {timeout}s: {last}")


def read_events(path):
    """Lines 'NAME EVENT MONOTONIC_NS' written by test services; returns tuples."""
    try:
        with open(path) as f:
            return [tuple(l.split()) for l in f if l.strip()]
    except FileNotFoundError:
        return []


@pytest.fixture
def events(tmp_path):
    return str(tmp_path / "events")


def wait_events(path, count, name=None, what=None, timeout=10.0):
    """Waits (bounded) until `count` matching events were recorded; returns all events."""
    deadline = time.monotonic() + timeout
    while True:
        evts = read_events(path)
        matching = [e for e in evts if (name is None or e[0] == name) and (what is None or e[1] == what)]
        if len(matching) >= count:
            return evts
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(matching)} of {count} events ({name} {what}) within {timeout}s: {evts}")
        time.sleep(0.01)  # polling a file the services append to, bounded


# ---- helpers for the HTTP endpoint and `supervisor status` tests ----------

def get_json(port, path="/status", timeout=5.0):
    """GETs a JSON document; fails the test unless the answer is 200 application/json."""
    import json
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read().decode()
        assert r.status == 200, (r.status, body)
        assert r.getheader("Content-Type", "").startswith("application/json"), r.getheaders()
        return json.loads(body)
    finally:
        conn.close()


def raw_exchange(port, data, timeout=5.0):
    """Sends raw bytes on a fresh connection and reads until the server closes
    it or `timeout` runs out. Returns (received bytes, closed_by_server)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        if data:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may close before it read everything
        got = b""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got, False
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return got, False
            except ConnectionResetError:
                return got, True
            if not chunk:
                return got, True
            got += chunk


def listening_sockets(pid):
    """The TCP sockets in LISTEN state that process `pid` holds, as 'ADDR:PORT' hex strings."""
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[3] == "0A" and cols[9] in inodes:  # 0A = TCP_LISTEN
                        found.append(cols[1])
        except FileNotFoundError:
            pass
    return found


def proc_table():
    """{pid: (state, ppid)} for every process in /proc, from /proc/PID/stat."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        rest = data[data.rfind(b")") + 2:].split()
        if len(rest) >= 2:
            table[int(name)] = (rest[0].decode(), int(rest[1]))
    return table


def zombies_of(ppid, table=None):
    """How many zombies (state 'Z') have `ppid` (a pid as seen from here) as parent."""
    table = proc_table() if table is None else table
    return sum(1 for state, pp in table.values() if pp == ppid and state == "Z")
