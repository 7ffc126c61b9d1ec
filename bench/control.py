#!/usr/bin/python3
"""The driver behind bench/control.sh (see bench/README.md and
docs/performance.md): what the control commands cost the supervisor.

1. `restart NAME` of one service among 50 `stamp_first wait` services (ready
   = exec succeeded), through the CLI and through the socket directly, split
   into the service's own stop and start and what is left: the supervisor's
   own cost. The same service's stop and start are measured alone in every
   round (posix_spawn and kill from here, no supervisor), and the
   supervisor's CPU time is read from /proc/PID/task/*/schedstat before and
   after. Then the same with a tcp readiness probe (a small Python service
   that stamps its start and its listen()), default interval and 10ms.
2. `reload` of a 200-service file with one service changed (its `env`), and
   with nothing changed: wall time of the command, the supervisor's CPU time
   until the changed service runs again, and which pids changed.

After every round `status` must show the same pid for every service but the
one restarted or changed, all ready. Every wait is bounded; each phase stops
at its share of the time budget (a row then shows its n). The supervisors
started here get SIGTERM on any exit path (and on the driver's death:
PR_SET_PDEATHSIG); their services die with their SIGTERM.
"""

import argparse
import ctypes
import json
import os
import platform
import select
import signal
import socket
import statistics
import subprocess
import sys
import time

MS = 1_000_000


def now():
    return time.monotonic_ns()  # CLOCK_MONOTONIC, the services' clock too


def log(*a):
    print("control:", *a, file=sys.stderr, flush=True)


class Budget:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()


# --------------------------------------------------------------------------
# The supervisor under test


def _pdeathsig():
    # SIGTERM, not SIGKILL: the supervisor then stops its services itself.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Supervisor:
    def __init__(self, binary, folder, toml_body):
        self.binary = binary
        self.dir = folder
        os.makedirs(folder, exist_ok=True)
        self.sock = os.path.join(folder, "ctl.sock")
        self.conf = os.path.join(folder, "supervisor.toml")
        if len(self.sock) >= 108:
            raise SystemExit(f"control: socket path too long for AF_UNIX: {self.sock}")
        self.write_conf(toml_body)
        self.log = open(os.path.join(folder, "supervisor.log"), "wb")
        self.proc = subprocess.Popen([binary, "run", "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=_pdeathsig)
        self.pid = self.proc.pid
        self.last_pids = {}

    def write_conf(self, body):
        head = (f'[supervisor]\ncontrol_socket = "{self.sock}"\nhealth_listen = ""\n\n')
        tmp = self.conf + ".new"
        with open(tmp, "w") as f:
            f.write(head + body)
        os.rename(tmp, self.conf)

    def cpu_ns(self):
        """Run time of all the supervisor's threads (schedstat, ns)."""
        total = 0
        for t in os.listdir(f"/proc/{self.pid}/task"):
            with open(f"/proc/{self.pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        return total

    def status(self):
        code, out, msgs = request(self.sock, ["status"])
        if code != 0:
            raise RuntimeError(f"status: = {code} {msgs}")
        doc = json.loads("\n".join(out))
        svcs = {s["name"]: s for s in doc["services"]}
        self.last_pids.update({n: s["pid"] for n, s in svcs.items() if s.get("pid")})
        return svcs

    def wait_all_ready(self, n, seconds=30):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the supervisor exited ({self.proc.returncode}); see {self.dir}/supervisor.log")
            try:
                svcs = self.status()
                if len(svcs) == n and all(s["state"] == "ready" for s in svcs.values()):
                    return svcs
            except (OSError, RuntimeError, ValueError):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"not all {n} services ready within {seconds} s; see {self.dir}/supervisor.log")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                for pid in self.last_pids.values():  # its services, by their own pids
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
        self.log.close()


def parse_answer(data):
    out, msgs, code = [], [], None
    for line in data.decode(errors="replace").split("\n"):
        if line == "." or line.startswith(". "):
            out.append(line[2:])
        elif line.startswith("! "):
            msgs.append(line[2:])
        elif line.startswith("= "):
            code = int(line[2:].split(" ", 1)[0])
    return code, out, msgs


def request(sock_path, words, timeout=30):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(("SUPERVISOR/1 " + " ".join(words) + "\n").encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return parse_answer(data)


def timed_raw(sock_path, words, watch_pidfd=None, timeout=30):
    """One request over the socket: (t0, t_answer, t_watched_exit, code, out, msgs).
    t_answer is when the server closed the connection after its `=` line."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    t_exit = None
    t0 = now()
    s.connect(sock_path)  # a Unix stream socket connects at once (or fails)
    s.sendall(("SUPERVISOR/1 " + " ".join(words) + "\n").encode())
    p = select.poll()
    p.register(s.fileno(), select.POLLIN)
    if watch_pidfd is not None:
        p.register(watch_pidfd, select.POLLIN)
    data = b""
    end = time.monotonic() + timeout
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"no answer to {words} within {timeout} s")
            for fd, _ in p.poll(int(left * 1000) + 1):
                if fd == watch_pidfd:
                    t_exit = now()
                    p.unregister(watch_pidfd)
                    continue
                chunk = s.recv(65536)
                if not chunk:
                    t1 = now()
                    code, out, msgs = parse_answer(data)
                    return t0, t1, t_exit, code, out, msgs
                data += chunk
    finally:
        s.close()


def timed_cli(binary, argv, errfile, watch_pidfd=None, timeout=30):
    """`supervisor ARGV...` as a user runs it: (t0, t_exit_0, t_watched_exit, rc, stdout)."""
    out = errfile + ".out"
    with open(out, "wb") as fo, open(errfile, "ab") as fe:
        t_exit = None
        t0 = now()
        proc = subprocess.Popen([binary] + argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)
        pfd = os.pidfd_open(proc.pid)
        p = select.poll()
        p.register(pfd, select.POLLIN)
        if watch_pidfd is not None:
            p.register(watch_pidfd, select.POLLIN)
        end = time.monotonic() + timeout
        try:
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    proc.kill()
                    proc.wait()
                    raise RuntimeError(f"supervisor {argv} did not exit within {timeout} s")
                done = False
                for fd, _ in p.poll(int(left * 1000) + 1):
                    if fd == watch_pidfd:
                        t_exit = now()
                        p.unregister(watch_pidfd)
                    elif fd == pfd:
                        t1 = now()
                        done = True
                if done:
                    break
        finally:
            os.close(pfd)
        rc = proc.wait()
    with open(out) as f:
        text = f.read()
    return t0, t1, t_exit, rc, text


# --------------------------------------------------------------------------
# Stamps written by the services: "S TAG ns" (main), "L TAG ns" (listening),
# "T TAG ns" (SIGTERM handler)


class Stamps:
    def __init__(self, path):
        self.path = path
        self.offset = 0

    def mark(self):
        try:
            self.offset = os.path.getsize(self.path)
        except OSError:
            self.offset = 0

    def since_mark(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read().decode()
        except OSError:
            return []
        rows = []
        for line in data.split("\n"):
            parts = line.split()
            if len(parts) == 3 and parts[0] in ("S", "L", "T"):
                rows.append((parts[0], parts[1], int(parts[2])))
        return rows

    def get(self, kind, tag):
        """The last stamp KIND of TAG since mark(), or None."""
        hit = None
        for k, t, ns in self.since_mark():
            if k == kind and t == tag:
                hit = ns
        return hit

    def wait_for(self, kind, tag, seconds=5.0):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            v = self.get(kind, tag)
            if v is not None:
                return v
            time.sleep(0.0005)
        return None


def wait_pidfd(pfd, seconds):
    p = select.poll()
    p.register(pfd, select.POLLIN)
    if not p.poll(int(seconds * 1000)):
        return None
    return now()


def alone(stamp_bin, stamps):
    """The service's own start and stop without any supervisor: posix_spawn
    (clone(CLONE_VM|CLONE_VFORK) + exec, as the supervisor spawns) until it
    returns, i.e. until exec succeeded; until its main(); then kill(SIGTERM)
    until it has exited (pidfd)."""
    stamps.mark()
    t0 = now()
    pid = os.posix_spawn(stamp_bin, [stamp_bin, stamps.path, "alone", "wait"], os.environ)
    t1 = now()
    pfd = os.pidfd_open(pid)
    try:
        s = stamps.wait_for("S", "alone", 5)
        time.sleep(0.002)
        tk = now()
        os.kill(pid, signal.SIGTERM)
        te = wait_pidfd(pfd, 5)
        if te is None:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(pfd)
        os.waitpid(pid, 0)
    t = stamps.get("T", "alone")
    if s is None or te is None or t is None:
        raise RuntimeError("the lone service did not stamp")
    return {"spawn_exec": t1 - t0, "spawn_main": s - t0, "kill_exit": te - tk, "term_exit": te - t}


# --------------------------------------------------------------------------
# Summaries


def fmt_ms(values, digits=3):
    if not values:
        return "n/a"
    v = [x / MS for x in values]
    med = statistics.median(v)
    return f"{med:.{digits}f} ({min(v):.{digits}f}–{max(v):.{digits}f})"


def med(values):
    return statistics.median(values) if values else float("nan")


def pid_check(before, after, changed):
    """Services other than `changed` that lost their pid or are not ready;
    whether `changed` got a new pid and is ready."""
    bad = [n for n in before if n not in changed and
           (after[n].get("pid") != before[n].get("pid") or after[n]["state"] != "ready")]
    renewed = all(after[n].get("pid") not in (None, before[n].get("pid")) and
                  after[n]["state"] == "ready" for n in changed)
    return bad, renewed


# --------------------------------------------------------------------------
# 1. restart one of 50


def exec_services(names, stamp_bin, stamps_path):
    return "".join(f'[services.{n}]\ncommand = ["{stamp_bin}", "{stamps_path}", "{n}", "wait"]\n\n'
                   for n in names)


TCP_SERVICE = r'''
import os, signal, socket, sys, time
t = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
path, tag, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
def stamp(kind, ns):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"{kind} {tag} {ns}\n".encode())
    os.close(fd)
def term(sig, frame):
    stamp("T", time.clock_gettime_ns(time.CLOCK_MONOTONIC))
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)
signal.signal(signal.SIGTERM, term)
stamp("S", t)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
stamp("L", time.clock_gettime_ns(time.CLOCK_MONOTONIC))
while True:
    c, _ = s.accept()
    c.close()
'''


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def restart_phase(a, work, budget, res):
    n = a.services
    names = [f"s{i:02d}" for i in range(1, n + 1)]
    folder = os.path.join(work, "restart")
    stamps = Stamps(os.path.join(folder, "stamps"))
    lone = Stamps(os.path.join(folder, "stamps-alone"))
    sv = Supervisor(a.supervisor, folder, exec_services(names, a.stamp, stamps.path))
    errfile = os.path.join(folder, "cli.err")
    rows = {"cli": [], "raw": []}
    alone_rows = []
    code_bad = []
    res["restart"] = rows
    res["restart_alone"] = alone_rows
    res["restart_errors"] = code_bad
    res["restart_others_bad"] = res["restart_renew_bad"] = 0
    try:
        t = time.monotonic()
        svcs = sv.wait_all_ready(n)
        res["restart_start_s"] = time.monotonic() - t
        log(f"restart: {n} services ready in {res['restart_start_s']:.2f} s")
        time.sleep(0.2)
        for r in range(a.rounds):
            if budget.left() < 0:
                log(f"restart: budget reached after {r} rounds")
                break
            target = names[(r * 17 + n // 2) % n]
            alone_rows.append(alone(a.stamp, lone))
            order = ("cli", "raw") if r % 2 == 0 else ("raw", "cli")
            for how in order:
                time.sleep(0.01)
                old = svcs[target]["pid"]
                pfd = os.pidfd_open(old)
                stamps.mark()
                c0 = sv.cpu_ns()
                try:
                    if how == "cli":
                        t0, t1, tx, code, _ = timed_cli(a.supervisor, ["restart", "--socket", sv.sock, target],
                                                        errfile, pfd)
                    else:
                        t0, t1, tx, code, _, _ = timed_raw(sv.sock, ["restart", target], pfd)
                finally:
                    os.close(pfd)
                time.sleep(0.01)  # let the supervisor finish whatever follows the answer
                c1 = sv.cpu_ns()
                if code != 0:
                    code_bad.append(f"{how} restart {target}: {code}")
                T = stamps.get("T", target)
                S = stamps.get("S", target)
                after = sv.status()
                bad, renewed = pid_check(svcs, after, [target])
                res["restart_others_bad"] += len(bad)
                res["restart_renew_bad"] += 0 if renewed else 1
                svcs = after
                if None in (T, S, tx):
                    code_bad.append(f"{how} restart {target}: missing stamp")
                    continue
                rows[how].append({"total": t1 - t0, "req_term": T - t0, "term_exit": tx - T,
                                  "exit_main": S - tx, "main_answer": t1 - S, "cpu": c1 - c0,
                                  "alone": alone_rows[-1]})
    finally:
        sv.stop()


def tcp_phase(a, work, budget, res):
    n = a.services
    plain = [f"s{i:02d}" for i in range(1, n - 1)]
    folder = os.path.join(work, "tcp")
    os.makedirs(folder, exist_ok=True)
    stamps = Stamps(os.path.join(folder, "stamps"))
    script = os.path.join(folder, "tcp_service.py")
    with open(script, "w") as f:
        f.write(TCP_SERVICE)
    tcp = {"tcp-default": (free_port(), None), "tcp-10ms": (free_port(), "10ms")}
    body = exec_services(plain, a.stamp, stamps.path)
    for name, (port, interval) in tcp.items():
        body += (f'[services.{name}]\ncommand = ["{a.python}", "-S", "-I", "{script}", '
                 f'"{stamps.path}", "{name}", "{port}"]\n')
        body += f'[services.{name}.ready]\ntcp = "127.0.0.1:{port}"\n'
        if interval:
            body += f'interval = "{interval}"\n'
        body += "\n"
    sv = Supervisor(a.supervisor, folder, body)
    rows = {k: [] for k in tcp}
    errors = []
    res["tcp"] = rows
    res["tcp_errors"] = errors
    res["tcp_others_bad"] = 0
    try:
        svcs = sv.wait_all_ready(n)
        time.sleep(0.2)
        for r in range(a.rounds_tcp):
            for target in tcp:
                if budget.left() < 0:
                    break
                time.sleep(0.01)
                old = svcs[target]["pid"]
                pfd = os.pidfd_open(old)
                stamps.mark()
                c0 = sv.cpu_ns()
                try:
                    t0, t1, tx, code, _, _ = timed_raw(sv.sock, ["restart", target], pfd)
                finally:
                    os.close(pfd)
                time.sleep(0.01)
                c1 = sv.cpu_ns()
                if code != 0:
                    errors.append(f"restart {target}: {code}")
                T, S, L = (stamps.get(k, target) for k in "TSL")
                after = sv.status()
                bad, renewed = pid_check(svcs, after, [target])
                res["tcp_others_bad"] += len(bad) + (0 if renewed else 1)
                svcs = after
                if None in (T, S, L, tx):
                    errors.append(f"restart {target}: missing stamp")
                    continue
                rows[target].append({"total": t1 - t0, "req_term": T - t0, "term_exit": tx - T,
                                     "exit_main": S - tx, "main_listen": L - S,
                                     "listen_answer": t1 - L, "cpu": c1 - c0})
            if budget.left() < 0:
                log(f"tcp: budget reached after {min(len(v) for v in rows.values())} rounds")
                break
    finally:
        sv.stop()


# --------------------------------------------------------------------------
# 2. reload 200


def reload_phase(a, work, budget, res):
    n = a.reload_services
    names = [f"r{i:03d}" for i in range(1, n + 1)]
    target = names[n // 2]
    folder = os.path.join(work, "reload")
    os.makedirs(folder, exist_ok=True)
    stamps = Stamps(os.path.join(folder, "stamps"))

    def body(gen):
        out = []
        for nm in names:
            out.append(f'[services.{nm}]\ncommand = ["{a.stamp}", "{stamps.path}", "{nm}", "wait"]\n')
            if nm == target:
                out.append(f'env = {{ BENCH_GENERATION = "{gen}" }}\n')
            out.append("\n")
        return "".join(out)

    gen = 0
    sv = Supervisor(a.supervisor, folder, body(gen))
    errfile = os.path.join(folder, "cli.err")
    kinds = [("changed", "cli"), ("unchanged", "cli"), ("changed", "raw"), ("unchanged", "raw")]
    rows = {k: [] for k in kinds}
    bad_rounds = []
    res["reload"] = rows
    res["reload_bad"] = bad_rounds
    res["reload_target"] = target
    try:
        t = time.monotonic()
        svcs = sv.wait_all_ready(n)
        res["reload_start_s"] = time.monotonic() - t
        log(f"reload: {n} services ready in {res['reload_start_s']:.2f} s")
        time.sleep(0.3)
        for r in range(a.rounds):
            if budget.left() < 0:
                log(f"reload: budget reached after {r} rounds")
                break
            for k in range(len(kinds)):
                what, how = kinds[(k + r) % len(kinds)]
                if what == "changed":
                    gen += 1
                sv.write_conf(body(gen))  # the same text when unchanged
                time.sleep(0.01)
                stamps.mark()
                c0 = sv.cpu_ns()
                if how == "cli":
                    t0, t1, _, code, text = timed_cli(a.supervisor, ["reload", "--socket", sv.sock], errfile)
                else:
                    t0, t1, _, code, out, _ = timed_raw(sv.sock, ["reload"])
                    text = "\n".join(out)
                S = stamps.wait_for("S", target, 5) if what == "changed" else None
                time.sleep(0.02)
                c1 = sv.cpu_ns()
                want = (f"restarted: {target}; unchanged: {n - 1}" if what == "changed"
                        else f"restarted: -; unchanged: {n}")
                if code != 0 or want not in text:
                    bad_rounds.append(f"{what} {how}: = {code} {text.strip()!r}")
                after = sv.status()
                bad, renewed = pid_check(svcs, after, [target] if what == "changed" else [])
                if bad or not renewed:
                    bad_rounds.append(f"{what} {how}: other pids changed {bad[:5]}, renewed {renewed}")
                svcs = after
                row = {"wall": t1 - t0, "cpu": c1 - c0}
                if what == "changed":
                    if S is None:
                        bad_rounds.append(f"{what} {how}: {target} did not start again")
                        continue
                    row["running_again"] = S - t0
                rows[(what, how)].append(row)
    finally:
        sv.stop()


# --------------------------------------------------------------------------
# Report


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    return f"nproc {os.cpu_count()}, {model}, Linux {platform.release()}, load average {load}"


def report(a, res, started, load0):
    p = lambda *x: print(*x)
    commit = subprocess.run(["git", "-C", a.root, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip() or "?"
    p(f"# Control commands: restart one of {a.services}, reload {a.reload_services}")
    p()
    p(f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {machine()} (at the start: {load0}); "
      f"tree {commit}; `{a.supervisor}` (built "
      f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(os.stat(a.supervisor).st_mtime))} UTC); "
      f"{time.monotonic() - started:.0f} s.")
    p()
    p("Median (min–max) over the rounds, ms. Service: `stamp_first wait` (static; "
      "ready = exec succeeded).")
    p()
    rs = res.get("restart", {})
    if rs:
        p(f"## `restart` of one service among {a.services}")
        p()
        p("| measure | CLI `supervisor restart` | socket (no client process) |")
        p("| --- | --- | --- |")
        cols = [rs.get("cli", []), rs.get("raw", [])]

        def line(title, f):
            p(f"| {title} | " + " | ".join(fmt_ms([f(x) for x in c]) for c in cols) + " |")
        line("**request → ready (answer `= 0`, client exited)**", lambda x: x["total"])
        line("request → the service's SIGTERM handler", lambda x: x["req_term"])
        line("SIGTERM handler → old process exited (service)", lambda x: x["term_exit"])
        line("old exited → new process's `main()`", lambda x: x["exit_main"])
        line("new `main()` → ready (negative: answered before `main()`)", lambda x: x["main_answer"])
        line("service alone: `kill` → exited (its own stop)", lambda x: x["alone"]["kill_exit"])
        line("service alone: `posix_spawn` → exec succeeded (its own start)",
             lambda x: x["alone"]["spawn_exec"])
        line("service alone: `posix_spawn` → `main()`", lambda x: x["alone"]["spawn_main"])
        line("**left: request → ready − own stop − own start** (CLI: with the client process)",
             lambda x: x["total"] - x["alone"]["kill_exit"] - x["alone"]["spawn_exec"])
        line("**supervisor CPU time (schedstat)**", lambda x: x["cpu"])
        p()
        nr = len(cols[0]) + len(cols[1])
        p(f"Rounds: {len(cols[0])} CLI + {len(cols[1])} socket, the target rotating over the "
          f"{a.services} services. Other services that lost their pid or readiness over all rounds: "
          f"**{res['restart_others_bad']}** (checked with `status` after every restart, "
          f"{a.services - 1} × {nr}); restarted ones without a new pid: {res['restart_renew_bad']}."
          + (f" Errors: {'; '.join(res['restart_errors'])}." if res["restart_errors"] else ""))
        p()
    tc = res.get("tcp", {})
    if any(tc.values()):
        p(f"## `restart` with a tcp readiness probe (socket; {a.services - 2} `stamp_first` + 2 Python services)")
        p()
        p("| measure | " + " | ".join(f"`{k}`" for k in tc) + " |")
        p("| --- | " + " | ".join("---" for _ in tc) + " |")

        def tline(title, f):
            p(f"| {title} | " + " | ".join(fmt_ms([f(x) for x in c]) for c in tc.values()) + " |")
        tline("**request → ready**", lambda x: x["total"])
        tline("request → SIGTERM handler", lambda x: x["req_term"])
        tline("SIGTERM handler → exited", lambda x: x["term_exit"])
        tline("exited → new `main()` (Python start-up)", lambda x: x["exit_main"])
        tline("`main()` → listening", lambda x: x["main_listen"])
        tline("listening → ready (the probe's next attempt)", lambda x: x["listen_answer"])
        tline("**supervisor CPU time**", lambda x: x["cpu"])
        p()
        p(f"`tcp-default`: `[ready] tcp` with the default interval (250ms); `tcp-10ms`: interval = "
          f"\"10ms\". Rounds: {', '.join(str(len(c)) for c in tc.values())}. Other services that lost "
          f"their pid or readiness, or restarted ones without a new pid: **{res['tcp_others_bad']}**."
          + (f" Errors: {'; '.join(res['tcp_errors'])}." if res["tcp_errors"] else ""))
        p()
    rl = res.get("reload", {})
    if rl:
        p(f"## `reload` of a {a.reload_services}-service file")
        p()
        p("| measure | one changed, CLI | one changed, socket | none changed, CLI | none changed, socket |")
        p("| --- | --- | --- | --- | --- |")
        order = [("changed", "cli"), ("changed", "raw"), ("unchanged", "cli"), ("unchanged", "raw")]
        p("| **wall time of `reload`** | " + " | ".join(fmt_ms([x["wall"] for x in rl[k]]) for k in order) + " |")
        p("| request → the changed service's new `main()` | " +
          " | ".join(fmt_ms([x["running_again"] for x in rl[k]]) if k[0] == "changed" else "–" for k in order) + " |")
        p("| **supervisor CPU time** (until it runs again) | " +
          " | ".join(fmt_ms([x["cpu"] for x in rl[k]]) for k in order) + " |")
        p()
        p(f"The changed service ({res['reload_target']}) gets a new `env` value each time. Rounds: "
          + ", ".join(str(len(rl[k])) for k in order) + ". Rounds where another service lost its pid or "
          f"readiness, the changed one kept its pid, or the summary was wrong: **{len(res['reload_bad'])}**"
          + (f" ({'; '.join(res['reload_bad'][:3])})" if res["reload_bad"] else "") + ".")
        p()
    if res.get("failures"):
        p("**Cut short**: " + "; ".join(res["failures"]) + ".")
        p()
    p("## Aims")
    p()
    p("| aim | result | |")
    p("| --- | --- | --- |")
    if rs and rs.get("raw"):
        raw = rs["raw"]
        left = med([x["total"] - x["alone"]["kill_exit"] - x["alone"]["spawn_exec"] for x in raw]) / MS
        cpu = med([x["cpu"] for x in raw + rs.get("cli", [])]) / MS
        ok = left < 1 and cpu < 1 and res["restart_others_bad"] == 0
        p(f"| restart: own cost < 1 ms, others untouched | **{'met' if ok else 'NOT met'}** | "
          f"left over (socket) {left:.3f} ms, supervisor CPU {cpu:.3f} ms; "
          f"others that lost their pid: {res['restart_others_bad']} |")
    if rl:
        ch = rl[("changed", "raw")] + rl[("changed", "cli")]
        cpu = med([x["cpu"] for x in ch]) / MS
        wall = med([x["wall"] for x in rl[("changed", "raw")]]) / MS
        ok = cpu < 20 and wall < 20 and not res["reload_bad"]
        p(f"| reload {a.reload_services}, one changed: own time < 20 ms, only it restarted | "
          f"**{'met' if ok else 'NOT met'}** | supervisor CPU {cpu:.3f} ms, wall (socket) {wall:.3f} ms; "
          f"bad rounds: {len(res['reload_bad'])} |")
    p()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--supervisor", required=True)
    ap.add_argument("--stamp", required=True)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--work", required=True)
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--rounds-tcp", type=int, default=20)
    ap.add_argument("--services", type=int, default=50)
    ap.add_argument("--reload-services", type=int, default=200)
    ap.add_argument("--budget", type=float, default=90)
    ap.add_argument("--only", default="restart,tcp,reload")
    ap.add_argument("--json")
    a = ap.parse_args()
    a.supervisor = os.path.realpath(a.supervisor)
    a.stamp = os.path.realpath(a.stamp)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # SIGINT (Ctrl+C, or the time limit of control.sh) ends the phase and
    # reports what was measured, even when started with SIGINT ignored (&).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    load0 = " ".join(open("/proc/loadavg").read().split()[:3])
    only = a.only.split(",")
    res = {}
    # Shares of the budget: restart 40 %, tcp 25 % (its default-interval rounds
    # take a quarter of a second each), reload the rest.
    phases = [("restart", restart_phase, 0.40), ("tcp", tcp_phase, 0.25), ("reload", reload_phase, 0.35)]
    t_end = time.monotonic() + a.budget
    try:
        for i, (name, fn, share) in enumerate(phases):
            if name not in only:
                continue
            rest = sum(s for nm, _, s in phases[i:] if nm in only)
            left = t_end - time.monotonic()
            try:
                fn(a, a.work, Budget(left * share / rest), res)
            except (RuntimeError, OSError, ValueError) as e:
                log(f"{name}: {e}")
                res.setdefault("failures", []).append(f"{name}: {e}")
    except KeyboardInterrupt:
        log("interrupted: reporting what was measured")
        res.setdefault("failures", []).append("interrupted (time limit or Ctrl+C)")
    report(a, res, started, load0)
    if a.json:
        def keys(v):
            if isinstance(v, dict):
                return {k if isinstance(k, str) else "-".join(k): keys(x) for k, x in v.items()}
            if isinstance(v, list):
                return [keys(x) for x in v]
            return v
        with open(a.json, "w") as f:
            json.dump(keys(res), f)


if __name__ == "__main__":
    main()
