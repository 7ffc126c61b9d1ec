#!/usr/bin/python3
"""Soak test of the supervisor under chaos: scripts/soak.sh [--minutes N] [--pid1] [--report FILE]

Starts build/supervisor (a plain process, or with --pid1 PID 1 of a fresh PID
namespace, `unshare -fp --mount-proc`) with 50 generated services: crash loops,
process trees that ignore SIGTERM (stop_grace 500ms), double-forking daemons
(setsid orphans the supervisor adopts), chatty loggers (this file run with
--logger) and services with slow tcp/http/exec readiness. Its stdout and stderr
are pipes read by this driver. Every service gets SOAK_TOKEN=<run token> in its
environment, which its children inherit: that is how the chaos finds its
targets and how leftovers are found at the end.

During the run a chaos thread SIGKILLs random service processes, SIGSTOPs some
for 1-4 s, makes the loggers flood, and opens and abandons HTTP connections
(idle, partial heads, unread answers, resets); the main thread adds bursts of
300 idle connections (past the endpoint's cap of 256) and one EMFILE phase: a
second supervisor with RLIMIT_NOFILE 64:64 and 30 services under a connection
flood. A sampler records every second the supervisor's fd count, RSS, CPU time,
zombie children, /livez (with its latency) and /status.

Checks, each PASS or FAIL in the summary:
  survived   the supervisor ran the whole time (no shutdown of its own)
  livez      every /livez probe (every second, and during each burst) answered
             200 within 1 s
  zombies    never more than 5 zombie children for more than 2 samples in a row
  fds, rss   median of the last window <= median of the first window after the
             warm-up + 5 fds / + 20 %; fds net of 3 per service that has a process,
             samples during connection bursts left out; the warm-up floods every
             logger and makes three bursts, to reach the heap's high-water marks
  lines      every run of every logger (random token per run; it records how many
             lines it wrote after each write(2) of <= PIPE_BUF bytes) appears in
             the supervisor's stdout as "NAME | NAME SEQ TOKEN PAYLOAD" with SEQ
             0..n-1, each once, in order, payload intact; n equals the recorded
             count for a run that ended on SIGTERM, and count <= n <= count + one
             write for a run SIGKILLed between its write and its bookkeeping
  readiness  every slow-readiness service became ready at least once
  emfile     the limited instance hit EMFILE, used < 20 % of a core over 10 s of
             connection flood, and answered /livez afterwards
  exit code  after SIGTERM it exits within 60 s; 1 exactly when it logged a SIGKILL
             after grace during the shutdown, else 0 (docs/lifecycle.md); with the
             SIGTERM-ignoring trees running, that must be 1
  leftovers  no process with the run's token remains after the exit
  no oops    no "internal error" on either supervisor's stderr
Every wait is bounded; sleeps only pace the chaos, the phases and the sampler.
"""
import argparse, collections, http.client, json, os, random, re, resource, shutil
import signal, socket, statistics, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("SUPERVISOR_BIN", os.path.normpath(os.path.join(HERE, "../../build/supervisor")))
PY, ME = "/usr/bin/python3", os.path.abspath(__file__)
BATCH = 24            # lines per write(2): at most ~3.2 KB, under PIPE_BUF
FLOOD_LINES = 10000   # lines a logger writes at full speed on SIGUSR1
LOGGER_RATE = 400     # lines per second otherwise
LIVEZ_LIMIT = 1.0
HEADS = {"idle": b"", "partial": b"GET /status HTTP/1.1\r\nHost: soak\r\nX-Pad: ",
         "unread": b"GET /metrics HTTP/1.1\r\nHost: soak\r\n\r\n", "reset": b"GET /livez HT"}


# ---- roles this file plays as a service ----------------------------------------

def payload(seq):
    return chr(97 + seq % 26) * (8 + seq * 31 % 97)


def logger_main(name, workdir):
    """Writes 'NAME SEQ TOKEN PAYLOAD' lines; after each write, how many, to NAME.TOKEN.count."""
    token = os.urandom(4).hex()
    fd = os.open(os.path.join(workdir, f"{name}.{token}.count"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    st = {"stop": False, "flood": 0}
    signal.signal(signal.SIGTERM, lambda *_: st.update(stop=True))
    signal.signal(signal.SIGUSR1, lambda *_: st.update(flood=st["flood"] + FLOOD_LINES))
    record = lambda n, how: os.pwrite(fd, b"%012d %s\n" % (n, how), 0)
    record(0, b"run")
    seq = 0
    while not st["stop"]:
        data = "".join(f"{name} {s} {token} {payload(s)}\n" for s in range(seq, seq + BATCH)).encode()
        if os.write(1, data) != len(data):  # a pipe write <= PIPE_BUF is all or nothing
            return 3
        seq += BATCH
        record(seq, b"run")
        if st["flood"] > 0:
            st["flood"] -= BATCH
        else:
            time.sleep(BATCH / LOGGER_RATE)
    record(seq, b"end")
    return 0


# ---- /proc and HTTP helpers ----------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_stat(pid):
    """(state, ppid, pgrp, cpu seconds) from /proc/PID/stat, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    r = data[data.rfind(b")") + 2:].split()
    return r[0].decode(), int(r[1]), int(r[2]), (int(r[11]) + int(r[12])) / os.sysconf("SC_CLK_TCK")


def proc_env(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
    except OSError:
        return {}


def scan(tokens):
    """[(pid, token, service, state, pgrp)] of live processes whose environment carries a token."""
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        env = proc_env(name)
        tok = env.get(b"SOAK_TOKEN", b"").decode()
        st = read_stat(name) if tok in tokens else None
        if st and st[0] != "Z":
            found.append((int(name), tok, env.get(b"SOAK_SVC", b"?").decode(), st[0], st[2]))
    return found


def zombies_of(ppid):
    stats = (read_stat(n) for n in filter(str.isdigit, os.listdir("/proc")))
    return sum(1 for st in stats if st and st[0] == "Z" and st[1] == ppid)


def signal_if_ours(pid, sig, token, keep=False):
    """Signals pid through a pidfd if it still carries `token`: True (with keep, the open pidfd) or None."""
    try:
        fd = os.pidfd_open(pid)
        if proc_env(pid).get(b"SOAK_TOKEN", b"").decode() == token:
            signal.pidfd_send_signal(fd, sig)
            return fd if keep else (os.close(fd) or True)
    except OSError:
        pass
    if "fd" in locals():
        os.close(fd)
    return None


def http_get(port, path, timeout):
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read(), time.monotonic() - t0
    finally:
        conn.close()


def livez_ok(port):
    try:
        status, _, took = http_get(port, "/livez", LIVEZ_LIMIT)
        return status == 200 and took < LIVEZ_LIMIT, took, ""
    except OSError as e:
        return False, None, str(e)


def wait_livez(port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if livez_ok(port)[0]:
            return True
        time.sleep(0.05)  # bounded retry while the endpoint comes up
    return False


def listen_overflows():
    """The kernel's count of connections dropped because an accept queue was full."""
    with open("/proc/net/netstat") as f:
        head, values = [l.split() for l in f if l.startswith("TcpExt:")][:2]
    return int(values[head.index("ListenOverflows")])


def open_conn(port, send=b""):
    s = socket.create_connection(("127.0.0.1", port), timeout=1.0)
    if send:
        s.sendall(send)
    return s


def states_of(port):
    """{state: count, "with a process": count} from /status, or None."""
    try:
        services = json.loads(http_get(port, "/status", 2.0)[1])["services"]
    except (OSError, ValueError, KeyError):
        return None
    return dict(collections.Counter(s["state"] for s in services), **{"with a process": sum(
        s["pid"] is not None for s in services)})


# ---- configurations -------------------------------------------------------------

def head(port, work, name, timeout):
    """[supervisor]; a private control socket when the binary has one (else /run/supervisor.sock is shared)."""
    text = f'[supervisor]\nhealth_listen = "127.0.0.1:{port}"\nshutdown_timeout = "{timeout}"\n'
    probe = os.path.join(work, "probe.toml")
    with open(probe, "w") as f:
        f.write(text + f'control_socket = "{work}/{name}.sock"\n[services.a]\ncommand = "true"\n')
    if subprocess.run([BIN, "check", "-c", probe], capture_output=True, timeout=10).returncode == 0:
        text += f'control_socket = "{work}/{name}.sock"\n'
    return text


def toml_service(name, token, command, ready=None, health=None, **keys):
    lines = [f"[services.{name}]", f"command = {json.dumps(command)}",
             f'env = {{ SOAK_TOKEN = "{token}", SOAK_SVC = "{name}" }}']
    lines += [f"{k} = {json.dumps(v)}" for k, v in keys.items()]
    for section, probe in (("ready", ready), ("health", health)):
        if probe:
            lines += [f"[services.{name}.{section}]"] + [f"{k} = {json.dumps(v)}" for k, v in probe.items()]
    return "\n".join(lines) + "\n"


def main_config(port, work, token):
    """The 50 services; returns (toml, {kind: [names]})."""
    kinds = collections.defaultdict(list)
    out = [head(port, work, "main", "40s")]

    def add(kind, name, command, **kw):
        kinds[kind].append(name)
        out.append(toml_service(name, token, command, **kw))

    os.makedirs(os.path.join(work, "www"), exist_ok=True)
    with open(os.path.join(work, "www/index.html"), "w") as f:
        f.write("ok\n")
    for i in range(12):  # crash loops, exit 1 after 0.1 to 0.9 s
        backoff = [{"restart_delay": "0s", "restart_delay_max": "500ms"}, {"restart_delay_max": "2s"}, {}][i % 3]
        add("crash", f"crash-{i:02d}", f"sleep 0.$(( $$ % 9 + 1 )); echo crash-{i:02d} dies >&2; exit 1",
            restart="always", critical=i % 2 == 0, **backoff)
    for i in range(6):   # trees that only SIGKILL ends
        add("tree", f"tree-{i}", "trap '' TERM; sleep 100000 & sleep 100000 & wait", restart="always",
            stop_grace="500ms", restart_delay_max="1s", critical=i % 2 == 0)
    for i in range(6):   # daemons that leave the group and outlive their parent
        cmd = ("(setsid sleep $(( $$ % 7 + 4 )) </dev/null >/dev/null 2>&1 &); sleep $(( $$ % 3 + 2 )); exit 0"
               if i < 4 else  # ... or keep the service's stdout pipe open
               f"(setsid sh -c 'echo daemon-{i} up; sleep 5; echo daemon-{i} down' &); sleep 3; exit 0")
        add("daemon", f"daemon-{i}", cmd, restart="always", restart_delay_max="2s")
    for i in range(8):
        add("chatty", f"chatty-{i}", [PY, ME, "--logger", f"chatty-{i}", work], restart="on-failure",
            stop_grace="10s")
    delay = "sleep $(( $$ % 3 + 2 )); "
    slow = dict(restart="on-failure", critical=False, stop_grace="2s")
    for i in range(4):
        p = free_port()
        server = f"import socket; s = socket.create_server(('127.0.0.1', {p}))\nwhile 1: s.accept()[0].close()"
        add("ready", f"ready-tcp-{i}", f"{delay}exec {PY} -c \"{server}\"",
            ready={"tcp": f"127.0.0.1:{p}", "start_timeout": "30s"}, **slow)
    for i in range(4):
        p = free_port()
        url = f"http://127.0.0.1:{p}/"
        add("ready", f"ready-http-{i}", f"{delay}exec {PY} -m http.server {p} --bind 127.0.0.1 --directory "
            f"{work}/www", ready={"http": url, "start_timeout": "30s"},
            health={"http": url, "interval": "1s", "timeout": "500ms", "failures": 3}, **slow)
    for i in range(4):
        f = f"{work}/ready-exec-{i}.pid"
        add("ready", f"ready-exec-{i}", f"{delay}echo $$ > {f}; exec sleep 100000",
            ready={"exec": f"test -f {f} && kill -0 $(cat {f})", "start_timeout": "30s"}, **slow)
    for i in range(6):
        deps = {"depends_on": [f"ready-tcp-{i}" if i < 3 else f"ready-http-{i - 3}"], "critical": False} \
            if i in (0, 3) else {}
        add("steady", f"steady-{i}", "exec sleep 100000", restart="on-failure", **deps)
    assert sum(len(v) for v in kinds.values()) == 50
    return "\n".join(out), kinds


# ---- readers of the supervisor's output -------------------------------------------

class OutChecker:
    """Checks the loggers' lines on the supervisor's stdout as they arrive (O(1) memory per run)."""

    def __init__(self, loggers):
        self.loggers, self.runs = set(loggers), {}  # (name, token) -> next expected seq
        self.errors, self.error_count, self.other = [], 0, 0

    def error(self, what):
        self.error_count += 1
        if len(self.errors) < 20:
            self.errors.append(what)

    def feed(self, raw):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        name, _, rest = line.partition(" | ")
        name = name.rstrip()
        if name not in self.loggers:
            self.other += 1
            return
        parts = rest.split(" ", 3)
        if len(parts) != 4 or parts[0] != name or not parts[1].isdigit():
            return self.error(f"malformed line: {line[:200]!r}")
        seq, key = int(parts[1]), (name, parts[2])
        want = self.runs.get(key, 0)
        if seq != want:
            self.error(f"{name} run {parts[2]}: SEQ {seq} where {want} was due")
        elif parts[3] != payload(seq):
            self.error(f"{name} run {parts[2]}: SEQ {seq} payload damaged")
        self.runs[key] = max(want, seq + 1)

    def verify(self, work):
        """Compares with the loggers' own counts; returns (runs, lines checked)."""
        counts = {}
        for fn in os.listdir(work):
            m = re.fullmatch(r"(chatty-\d+)\.([0-9a-f]{8})\.count", fn)
            if m:
                with open(os.path.join(work, fn)) as f:
                    n, how = f.read().split()
                counts[(m[1], m[2])] = (int(n), how == "end")
        for key in sorted(set(counts) | set(self.runs)):
            got = self.runs.get(key, 0)
            if key not in counts:
                self.error(f"{key[0]} run {key[1]}: {got} lines but no count file")
                continue
            n, final = counts[key]
            if (final and got != n) or not n <= got <= n + BATCH:
                self.error(f"{key[0]} run {key[1]}: wrote {n} lines ({'ended' if final else 'killed'}), "
                           f"{got} in the supervisor's stdout")
        return len(counts), sum(self.runs.values())


class ErrLog:
    """What the chaos needs to know of the supervisor's stderr, kept small."""

    def __init__(self):
        self.count, self.tail = 0, collections.deque(maxlen=60)
        self.oops, self.premature, self.shutdown_kills, self.emfile = [], [], [], []
        self.ready, self.shutdown = collections.Counter(), False

    def feed(self, raw):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        self.count += 1
        self.tail.append(line)
        if "internal error" in line:
            self.oops.append(line)
        if "Too many open files" in line:
            self.emfile.append(line)
        if m := re.fullmatch(r"supervisor: (\S+): ready", line):
            self.ready[m[1]] += 1
        if re.search(r"received SIG(TERM|INT), shutting down", line):
            self.shutdown = True
        elif "shutting down" in line and line.startswith("supervisor:") and not self.shutdown:
            self.premature.append(line)
        if self.shutdown and re.search(r": killed (after grace|\(SIGKILL\))", line):
            self.shutdown_kills.append(line)


def reader(pipe, sink):
    t = threading.Thread(target=lambda: [sink.feed(l) for l in iter(pipe.readline, b"")], daemon=True)
    t.start()
    return t


# ---- chaos and sampling ----------------------------------------------------------

class Chaos(threading.Thread):
    def __init__(self, soak):
        super().__init__(daemon=True)
        self.s, self.halt, self.rng = soak, threading.Event(), random.Random()
        self.counts = collections.Counter()
        self.held, self.stopped = [], []  # (socket, close_at), (pidfd, resume_at)
        self.lock = threading.Lock()

    def run(self):
        while not self.halt.wait(self.rng.uniform(0.2, 0.6)):  # pacing
            self.release(time.monotonic())
            r = self.rng.random()
            try:
                (self.kill if r < 0.35 else self.stop if r < 0.5 else self.flood if r < 0.65 else self.abandon)()
            except OSError as e:
                self.counts[f"chaos error {e.__class__.__name__}"] += 1

    def targets(self, pred=lambda p: True):
        return [p for p in scan({self.s.token}) if p[3] != "T" and pred(p)]

    def kill(self):
        procs = self.targets()
        leaders = [p for p in procs if p[0] == p[4]]
        pool = leaders if leaders and self.rng.random() < 0.7 else procs
        if pool and signal_if_ours(self.rng.choice(pool)[0], signal.SIGKILL, self.s.token):
            self.counts["kills"] += 1

    def stop(self):
        procs = self.targets()
        if len(self.stopped) < 5 and procs:
            fd = signal_if_ours(self.rng.choice(procs)[0], signal.SIGSTOP, self.s.token, keep=True)
            if fd is not None:
                with self.lock:
                    self.stopped.append((fd, time.monotonic() + self.rng.uniform(1, 4)))
                self.counts["sigstops"] += 1

    def flood(self):
        procs = self.targets(lambda p: p[2].startswith("chatty-") and p[0] == p[4])
        if procs and signal_if_ours(self.rng.choice(procs)[0], signal.SIGUSR1, self.s.token):
            self.counts["floods"] += 1

    def abandon(self):
        kind = self.rng.choice(sorted(HEADS))
        try:
            sock = open_conn(self.s.port, HEADS[kind])
        except OSError:
            self.counts["connect errors"] += 1
            return
        self.counts["abandoned"] += 1
        if kind == "reset":  # close with an RST in the middle of a head
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            return sock.close()
        with self.lock:
            self.held.append((sock, time.monotonic() + self.rng.uniform(0.5, 40)))
            while len(self.held) > 80:
                self.held.pop(0)[0].close()

    def release(self, now, everything=False):
        """SIGCONTs the stopped processes and closes the held connections whose time has come."""
        with self.lock:
            for fd, at in [x for x in self.stopped if everything or now >= x[1]]:
                self.stopped.remove((fd, at))
                try:
                    signal.pidfd_send_signal(fd, signal.SIGCONT)
                except OSError:
                    pass  # gone meanwhile
                os.close(fd)
            for sock, at in [x for x in self.held if everything or now >= x[1]]:
                self.held.remove((sock, at))
                sock.close()


class Sampler(threading.Thread):
    def __init__(self, soak):
        super().__init__(daemon=True)
        self.s, self.halt, self.burst, self.samples = soak, threading.Event(), threading.Event(), []

    def run(self):
        nxt = time.monotonic()
        while not self.halt.is_set():
            self.samples.append(self.sample())
            nxt += 1.0
            self.halt.wait(max(0.0, nxt - time.monotonic()))  # pacing

    def sample(self):
        sv = self.s.sv_pid
        x = {"t": time.monotonic() - self.s.t0, "burst": self.burst.is_set(), "fds": None, "rss": None,
             "cpu": None, "zombies": 0}
        try:
            x["fds"] = len(os.listdir(f"/proc/{sv}/fd"))
            with open(f"/proc/{sv}/status") as f:
                x["rss"] = int(next(l for l in f if l.startswith("VmRSS:")).split()[1])
            x["cpu"] = read_stat(sv)[3]
            x["zombies"] = zombies_of(sv)
        except (OSError, TypeError, StopIteration):
            pass  # gone: the survived check says so
        x["livez"], x["livez_s"], x["livez_err"] = livez_ok(self.s.port)
        x["states"] = states_of(self.s.port)
        # Each service with a process holds 3 fds (stdout, stderr, pidfd): net of them, crash loops
        # between two runs do not move the count.
        x["fds_net"] = x["fds"] - 3 * x["states"]["with a process"] if x["fds"] and x["states"] else None
        return x


# ---- the run ---------------------------------------------------------------------

class Soak:
    def __init__(self, args):
        self.args, self.duration = args, args.minutes * 60.0
        self.token, self.token2 = os.urandom(6).hex(), os.urandom(6).hex()
        self.work, self.port = tempfile.mkdtemp(prefix="soak-"), free_port()
        self.procs, self.checks, self.figures, self.bursts = [], [], {}, []
        self.emfile = {"result": "not run"}
        self.err, self.err2, self.chaos = ErrLog(), ErrLog(), None

    def check(self, name, ok, detail=""):
        self.checks.append((name, bool(ok), detail))

    def start(self):
        global BIN
        shutil.copy2(BIN, os.path.join(self.work, "supervisor"))  # a rebuild during the run changes nothing
        BIN = os.path.join(self.work, "supervisor")
        text, self.kinds = main_config(self.port, self.work, self.token)
        cfg = os.path.join(self.work, "supervisor.toml")
        with open(cfg, "w") as f:
            f.write(text)
        cmd = (["unshare", "-fp", "--mount-proc"] if self.args.pid1 else []) + [BIN, "run", "-c", cfg]
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=dict(env, NO_COLOR="1"), start_new_session=True)
        self.procs.append(self.proc)
        self.out = OutChecker(self.kinds["chatty"])
        self.readers = [reader(self.proc.stdout, self.out), reader(self.proc.stderr, self.err)]
        self.sv_pid = self.proc.pid
        deadline = time.monotonic() + 5
        while self.args.pid1 and self.sv_pid == self.proc.pid and time.monotonic() < deadline:
            try:
                with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                    self.sv_pid = int((f.read().split() or [self.sv_pid])[0])
            except OSError:
                break
            time.sleep(0.01)  # bounded wait for unshare's fork
        if self.args.pid1 and self.sv_pid == self.proc.pid:
            raise RuntimeError("unshare did not start the supervisor")
        if not wait_livez(self.port, 15):
            raise RuntimeError("no /livez within 15 s:\n" + "\n".join(self.err.tail))

    def warm_up(self):
        """Every logger floods and three bursts come first, so that the heap's high-water marks (output
        queues, 256 connection buffers) are reached before the first window of the fd/RSS check."""
        for pid, _, svc, _, pgrp in scan({self.token}):
            if svc.startswith("chatty-") and pid == pgrp:
                signal_if_ours(pid, signal.SIGUSR1, self.token)
        for _ in range(3):
            self.burst(hold=1)
        self.warm = time.monotonic() - self.t0 + 5

    def burst(self, n=300, hold=3):
        """n idle connections at once, past the endpoint's cap: /livez must still answer."""
        self.sampler.burst.set()
        socks, drops = [], listen_overflows()
        try:
            for _ in range(n):
                try:
                    socks.append(open_conn(self.port))
                except OSError:
                    self.chaos.counts["connect errors"] += 1
            self.chaos.counts["abandoned"] += len(socks)
            ok, took, why = livez_ok(self.port)
            drops = listen_overflows() - drops
            self.bursts.append(f"{len(socks)} held, /livez " + (f"{took * 1000:.0f} ms" if ok else f"FAILED {why}")
                               + (f" ({drops} SYNs dropped: accept queue full)" if drops else ""))
            time.sleep(hold)  # pacing: hold the connections
        finally:
            for s in socks:
                s.close()
        time.sleep(2)  # pacing: the endpoint closes them before fds count again
        self.sampler.burst.clear()

    def emfile_phase(self):
        """A second supervisor, RLIMIT_NOFILE 64:64, 30 services, under a connection flood for 10 s."""
        port, r = free_port(), self.emfile
        text = head(port, self.work, "emfile", "20s")
        for i in range(30):
            text += toml_service(f"emf-{i:02d}", self.token2, "sleep 1; exit 1" if i % 5 == 0 else "exec sleep 100000",
                                 restart="always", critical=False, restart_delay_max="1s", stop_grace="2s")
        cfg = os.path.join(self.work, "emfile.toml")
        with open(cfg, "w") as f:
            f.write(text)
        p = subprocess.Popen([BIN, "run", "-c", cfg], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True,
                             preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)))
        self.procs.append(p)
        t, r["result"], socks = reader(p.stderr, self.err2), "FAIL", []
        try:
            if not wait_livez(port, 15) or p.poll() is not None:
                raise RuntimeError("the limited instance never answered /livez")
            cpu0, t0 = read_stat(p.pid)[3], time.monotonic()
            live = tries = max_fds = 0
            while time.monotonic() - t0 < 10:
                for _ in range(40 if not socks else 10):
                    try:
                        socks.append(open_conn(port, HEADS["partial"] if len(socks) % 2 else b""))
                    except OSError:
                        r["connect errors"] = r.get("connect errors", 0) + 1
                tries += 1
                live += livez_ok(port)[0]
                max_fds = max(max_fds, len(os.listdir(f"/proc/{p.pid}/fd")))
                time.sleep(0.5)  # pacing
            r["cpu"] = (read_stat(p.pid)[3] - cpu0) / (time.monotonic() - t0)
            r.update({"connections": len(socks), "max fds": max_fds, "/livez during flood": f"{live}/{tries}"})
            for s in socks:
                s.close()
            socks = []
            r["recovered"] = wait_livez(port, 5)
            r["services"] = states_of(port)
            p.send_signal(signal.SIGTERM)
            try:
                r["exit"] = p.wait(30)
            except subprocess.TimeoutExpired:
                r["exit"] = "none within 30 s"
            t.join(5)
            r["EMFILE messages"] = len(self.err2.emfile)
            ok = r["cpu"] < 0.2 and r["recovered"] and r["EMFILE messages"] > 0 and isinstance(r["exit"], int)
            r["result"] = "PASS" if ok else "FAIL"
            r["cpu"] = f"{r['cpu'] * 100:.1f} % of a core over 10 s"
        except (RuntimeError, OSError, TypeError) as e:
            r["error"] = str(e)
            r["its stderr"] = [line for line in self.err2.tail if "cannot start" not in line][-8:]
        finally:
            for s in socks:
                s.close()
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)

    def run(self):
        self.start()
        self.t0, D = time.monotonic(), self.duration
        self.chaos, self.sampler = Chaos(self), Sampler(self)
        self.chaos.start()
        self.sampler.start()
        self.warm_up()
        plan = sorted([(D * 0.3, self.burst), (D * 0.5, self.emfile_phase)] +
                      [(t, self.burst) for t in range(300, int(D) - 30, 300)], key=lambda e: e[0])
        while (now := time.monotonic() - self.t0) < D and self.proc.poll() is None:
            if plan and now >= plan[0][0]:
                plan.pop(0)[1]()
            else:
                time.sleep(min(1.0, max(0.05, (plan[0][0] if plan else D) - now)))  # pacing
        self.chaos.halt.set()
        self.chaos.join(10)
        self.chaos.release(0, everything=True)
        time.sleep(3)  # pacing: stopped processes resume, trees come back from their back-off
        self.sampler.halt.set()
        self.sampler.join(10)
        survived = self.proc.poll() is None and not self.err.premature
        self.check("survived", survived, f"ran {time.monotonic() - self.t0:.0f} s" if survived else
                   f"ended on its own with {self.proc.poll()}: {self.err.premature[:1]}")
        if self.proc.poll() is None:
            trees = {p[2] for p in scan({self.token})} & set(self.kinds["tree"])
            t0 = time.monotonic()
            os.kill(self.sv_pid, signal.SIGTERM)
            try:
                code = self.proc.wait(60)
            except subprocess.TimeoutExpired:
                code = "none within 60 s"
            self.figures["shutdown"] = f"{time.monotonic() - t0:.1f} s, exit code {code}"
            want = 1 if self.err.shutdown_kills else 0
            self.check("exit code", code == want and (want == 1 or not trees),
                       f"{code}; {len(self.err.shutdown_kills)} SIGKILL after grace at shutdown, {len(trees)} "
                       f"SIGTERM-ignoring trees were running; docs/lifecycle.md wants {want}"
                       + ("" if want == 1 or not trees else ", and the trees needed SIGKILL"))
        for t in self.readers:
            t.join(15)
        self.verify()

    def verify(self):
        s, D = self.sampler.samples, self.duration
        bad = [x for x in s if not x["livez"]]
        lat = [x["livez_s"] for x in s if x["livez_s"] is not None]
        burst_bad = [b for b in self.bursts if "FAILED" in b]
        self.check("livez", len(s) >= 0.9 * D and not bad and not burst_bad,
                   f"{len(s) - len(bad)}/{len(s)} answered 200 within 1 s, max {max(lat, default=0) * 1000:.0f} ms"
                   + (f"; first miss at {bad[0]['t']:.0f} s: {bad[0]['livez_err'] or bad[0]['livez_s']}" if bad else "")
                   + (f"; bursts: {burst_bad}" if burst_bad else ""))
        zs, run, longest = [x["zombies"] for x in s], 0, 0
        for z in zs:
            run = run + 1 if z > 5 else 0
            longest = max(longest, run)
        self.check("zombies", longest <= 2, f"max {max(zs, default=0)}, longest run above 5: {longest} samples")
        warm = max(self.warm, 10.0 if D <= 120 else 30.0)
        win = min(60.0, (D - warm) / 2)

        def medians(key):
            early = [x[key] for x in s if warm <= x["t"] < warm + win and not x["burst"] and x[key] is not None]
            late = [x[key] for x in s if D - win <= x["t"] and not x["burst"] and x[key] is not None]
            return (statistics.median(early), statistics.median(late)) if early and late else (None, None)

        for key, what, unit, ok in (("fds", "fds net of 3 per running service", "", lambda a, b: b <= a + 5),
                                    ("rss", "RSS", " kB", lambda a, b: b <= a * 1.2)):
            a, b = medians("fds_net" if key == "fds" else key)
            vals = [x[key] for x in s if x[key] is not None]
            self.figures[key] = (f"{vals[0]}{unit} first sample, {vals[-1]}{unit} last, max {max(vals)}{unit}; "
                                 f"{what}: median {a:g}{unit} in [{warm:.0f}, {warm + win:.0f}) s -> {b:g}{unit} "
                                 f"in the last {win:.0f} s") if a is not None else "?"
            self.check(key, a is not None and ok(a, b), self.figures[key])
        cpu = [x["cpu"] for x in s if x["cpu"] is not None]
        self.figures["cpu"] = f"{cpu[-1]:.1f} s ({cpu[-1] / max(s[-1]['t'], 1) * 100:.1f} % of a core)" if cpu else "?"
        self.figures["max zombies"], self.figures["samples"] = max(zs, default=0), len(s)
        runs, lines = self.out.verify(self.work)
        self.figures["lines"] = f"{lines} lines in {runs} logger runs ({self.out.other} other stdout lines)"
        self.check("lines", self.out.error_count == 0 and lines > 0,
                   f"{lines} lines, {runs} runs, {self.out.error_count} errors {self.out.errors[:5]}")
        never = [n for n in self.kinds["ready"] if not self.err.ready[n]]
        self.check("readiness", not never, f"{12 - len(never)}/12 became ready" + (f"; never: {never}" if never else ""))
        self.check("emfile", self.emfile["result"] == "PASS",
                   "; ".join(f"{k}: {v}" for k, v in self.emfile.items() if k != "result"))
        deadline, left = time.monotonic() + 5, []
        while time.monotonic() < deadline and (left := scan({self.token, self.token2})):
            time.sleep(0.1)  # bounded: processes of a dead namespace take a moment to go
        self.check("leftovers", not left, f"{len(left)} left {left[:5]}")
        oops = self.err.oops + self.err2.oops
        self.check("no oops", not oops, f"{len(oops)} 'internal error' lines {oops[:3]}")

    def summary(self):
        c = self.chaos.counts if self.chaos else {}
        ok = self.checks and all(x[1] for x in self.checks)
        rows = [("mode", "PID 1 of a PID namespace" if self.args.pid1 else "plain process"),
                ("minutes run", f"{self.args.minutes:g}"), ("services", 50)]
        rows += [(k, c.get(k, 0)) for k in ("kills", "sigstops", "floods", "abandoned", "connect errors")]
        rows += [("bursts of 300 connections", "; ".join(self.bursts) or "none")]
        rows += [(k, self.figures.get(k, "?")) for k in ("lines", "samples", "max zombies", "fds", "rss", "cpu",
                                                           "shutdown")]
        rows += [("supervisor stderr lines", self.err.count), ("EMFILE phase", self.emfile["result"])]
        md = [f"# Soak run: {'PASS' if ok else 'FAIL'}", "", "| figure | value |", "| --- | --- |"]
        md += [f"| {k} | {v} |" for k, v in rows]
        md += ["", "| check | result | detail |", "| --- | --- | --- |"]
        md += [f"| {n} | {'PASS' if r else 'FAIL'} | {d} |" for n, r, d in self.checks]
        if not ok:
            md += ["", "Last lines of the supervisor's stderr:", "```"] + list(self.err.tail)[-25:] + ["```"]
        return ok, "\n".join(md) + "\n"

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(5)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
        if self.args.pid1 and hasattr(self, "sv_pid"):
            try:
                os.kill(self.sv_pid, signal.SIGKILL)  # takes its whole PID namespace with it
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (left := scan({self.token, self.token2})):
            for pid, tok, *_ in left:
                signal_if_ours(pid, signal.SIGKILL, tok)
            time.sleep(0.1)  # bounded: let them die
        if self.chaos:
            self.chaos.halt.set()
            self.chaos.release(0, everything=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=2)
    ap.add_argument("--pid1", action="store_true")
    ap.add_argument("--report")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (configs, counts, samples.json)")
    ap.add_argument("--logger", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.logger:
        return logger_main(*args.logger)
    if not os.access(BIN, os.X_OK):
        print(f"soak: {BIN} is missing; build it first", file=sys.stderr)
        return 2
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda n, _: sys.exit(128 + n))  # unwinds through the cleanup below
    soak, failure = Soak(args), None
    try:
        soak.run()
    except BaseException as e:  # Ctrl+C included: still clean up and report
        failure = f"{e.__class__.__name__}: {e}"
    finally:
        soak.cleanup()
    if failure:
        soak.check("driver", False, failure)
    ok, md = soak.summary()
    print(md)
    if args.report:
        with open(args.report, "w") as f:
            f.write(md)
    if hasattr(soak, "sampler"):
        with open(os.path.join(soak.work, "samples.json"), "w") as f:
            json.dump(soak.sampler.samples, f)
    if ok and not args.keep:
        shutil.rmtree(soak.work, ignore_errors=True)
    else:
        print(f"soak: files kept in {soak.work}", file=sys.stderr)
    if not ok:
        print(f"soak: FAIL: {', '.join(f'{n} ({d})' for n, r, d in soak.checks if not r)}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
