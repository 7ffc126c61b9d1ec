#!/usr/bin/python3
"""The benchmark driver behind bench/run.sh (see docs/performance.md).

Every run starts one init under test as PID 1 of a fresh PID namespace:

    unshare -fp --mount-proc --kill-child=SIGKILL  launch STAMPS  INIT ARGS...

`launch` (launch.c) stamps CLOCK_MONOTONIC into STAMPS and execs the init in
place; the services are `stamp_first` (stamp_first.c), which stamps its own
first instruction into the same file. Tools are interleaved run by run (the
order rotates every round) so that the machine's drift hits all of them alike,
and ratios are taken per round (paired) before their median. The "floor"
column is floor_init.c, a minimal C PID 1 with no features: the physical floor
of this machine. The log scenario pipes `supervisor run -c` (log = "inherit"
and "prefix") into cat next to a plain `linewriter | cat`.
Every wait is bounded; every process started here is tracked and, on any exit
path, killed by its own pid (SIGKILL to a namespace's PID 1 ends the whole
namespace).
"""

import argparse
import json
import os
import platform
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import ctypes

NS = 1_000_000_000

# --------------------------------------------------------------------------
# Tools

# Columns of the table, in order. kind: anchor | ours. style: how it runs.
#   wrap   a single-child init: INIT [--] COMMAND
#   s6     s6-svscan SCANDIR (one service directory per service)
#   runit  runsvdir -P SCANDIR
#   superd supervisord -n -c FILE
#   conf   supervisor run -c supervisor.toml
#   floor  floor_init [-c] CMD ';' CMD ... (bench/floor_init.c: the minimal C
#          PID 1, the physical floor of this machine; neither anchor nor ours)
COLUMNS = [
    # key            title                   kind      style     exit code after SIGTERM
    ("tini",         "tini",                 "anchor", "wrap",   143),
    ("tini-static",  "tini-static",          "anchor", "wrap",   143),
    ("dumb-init",    "dumb-init",            "anchor", "wrap",   143),
    ("catatonit",    "catatonit",            "anchor", "wrap",   143),
    ("s6",           "s6",                   "anchor", "s6",     0),
    ("runit",        "runit",                "anchor", "runit",  0),
    ("supervisord",  "supervisord",          "anchor", "superd", 0),
    ("ours",         "ours `run --`",        "ours",   "wrap",   143),
    ("ours-c",       "ours `run -c`",        "ours",   "conf",   0),
    ("ours-static",  "ours static `run --`", "ours",   "wrap",   143),
    ("ours-static-c", "ours static `run -c`", "ours",  "conf",   0),
    # The same with every service's log = "inherit": no output pipes, so the
    # services rows show what the default's two pipes per service cost.
    ("ours-static-inherit", "ours static `run -c`, log = inherit", "ours", "conf", 0),
    ("floor",        "floor (minimal C PID 1)", "floor", "floor",  143),
]
COL = {c[0]: c for c in COLUMNS}
WRAPPERS = ["tini", "tini-static", "dumb-init", "catatonit"]
MANAGERS = ["s6", "runit", "supervisord"]
# The anchors of issue 14's paired ratios for one child (tini-static rather
# than the dynamic tini: the same code, without the dynamic loader).
PAIR_WRAPPERS = ["tini-static", "dumb-init", "catatonit"]


class Env:
    """Paths of everything the runs need."""

    def __init__(self, a):
        self.launch = os.path.realpath(a.launch)
        self.stamp = os.path.realpath(a.stamp)
        self.ours = os.path.realpath(a.ours)
        self.ours_static = os.path.realpath(a.ours_static) if a.ours_static else None
        self.floor = os.path.realpath(a.floor) if a.floor else None
        self.linewriter = os.path.realpath(a.linewriter) if a.linewriter else None
        self.exe = {
            "tini": shutil.which("tini"),
            "tini-static": shutil.which("tini-static"),
            "dumb-init": shutil.which("dumb-init"),
            "catatonit": shutil.which("catatonit"),
            "s6": shutil.which("s6-svscan"),
            "runit": shutil.which("runsvdir"),
            "supervisord": shutil.which("supervisord"),
            "ours": self.ours,
            "ours-c": self.ours,
            "ours-static": self.ours_static,
            "ours-static-c": self.ours_static,
            "ours-static-inherit": self.ours_static,
            "floor": self.floor,
        }
        shm = "/dev/shm"
        base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else tempfile.gettempdir()
        self.root = tempfile.mkdtemp(prefix="supervisor-bench.", dir=base)

    def available(self, key):
        return bool(self.exe.get(key))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def init_argv(env, key, rundir, stamps, services, chain=False, http=None):
    """The init command line for column `key` running `services`, a list of
    (tag, mode, n). Writes the configuration files it needs into rundir."""
    style = COL[key][3]
    exe = env.exe[key]

    def cmd(tag, mode, n):
        c = [env.stamp, stamps, tag, mode]
        if n:
            c.append(str(n))
        return c

    if style == "wrap":
        assert len(services) == 1
        c = cmd(*services[0])
        if key in ("tini", "tini-static", "catatonit"):
            return [exe, "--"] + c
        if key == "dumb-init":
            return [exe] + c
        return [exe, "run", "--"] + c
    if style in ("s6", "runit"):
        scan = os.path.join(rundir, "scan")
        os.mkdir(scan)
        for tag, mode, n in services:
            d = os.path.join(scan, tag)
            os.mkdir(d)
            # The service's run program is stamp_first itself (no shell in
            # between: the best case for s6 and runit).
            os.symlink(env.stamp, os.path.join(d, "run"))
            with open(os.path.join(d, "bench.args"), "w") as f:
                f.write(" ".join([stamps, tag, mode] + ([str(n)] if n else [])) + "\n")
        # runsvdir waits a second before it scans a directory modified in the
        # current second; a real /etc/service is older than that.
        past = time.time() - 60
        for tag, _, _ in services:
            os.utime(os.path.join(scan, tag), (past, past))
        os.utime(scan, (past, past))
        if style == "s6":
            return [exe, scan]
        return [exe, "-P", scan]
    if style == "superd":
        conf = os.path.join(rundir, "supervisord.conf")
        with open(conf, "w") as f:
            f.write("[supervisord]\nnodaemon=true\nsilent=true\nlogfile=/dev/null\n"
                    "logfile_maxbytes=0\npidfile=%s/supervisord.pid\n"
                    "childlogdir=%s\n\n" % (rundir, rundir))
            for tag, mode, n in services:
                f.write("[program:%s]\ncommand=%s\nstdout_logfile=/dev/stdout\n"
                        "stdout_logfile_maxbytes=0\nredirect_stderr=true\n\n"
                        % (tag, " ".join(cmd(tag, mode, n))))
        # /usr/bin/supervisord is a Python script: PID 1 is the interpreter.
        return [exe, "-n", "-c", conf]
    if style == "floor":
        argv = [exe] + (["-c"] if chain else [])
        for i, (tag, mode, n) in enumerate(services):
            argv += ([";"] if i else []) + cmd(tag, mode, n)
        return argv
    if style == "conf":
        conf = os.path.join(rundir, "supervisor.toml")
        with open(conf, "w") as f:
            # The control socket stays on, as by default, but in the run's
            # own folder: runs side by side (and any supervisor on the host,
            # at /run/supervisor.sock) must not meet.
            f.write("[supervisor]\nhealth_listen = %s\ncontrol_socket = %s\n\n"
                    % (json.dumps(http or ""), json.dumps(os.path.join(rundir, "control.sock"))))
            prev = None
            for tag, mode, n in services:
                f.write("[services.%s]\ncommand = %s\n" % (tag, json.dumps(cmd(tag, mode, n))))
                if key.endswith("-inherit"):
                    f.write('log = "inherit"\n')
                if chain and prev:
                    f.write("depends_on = [%s]\n" % json.dumps(prev))
                f.write("\n")
                prev = tag
        return [exe, "run", "-c", conf]
    raise ValueError(style)


# --------------------------------------------------------------------------
# /proc helpers

def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def ppid_of(pid):
    s = read("/proc/%d/stat" % pid)
    if not s:
        return None
    return int(s[s.rindex(")") + 2:].split()[1])


def all_ppids():
    m = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            p = ppid_of(int(name))
            if p is not None:
                m[int(name)] = p
    return m


def descendants(root):
    m = all_ppids()
    kids = {}
    for p, pp in m.items():
        kids.setdefault(pp, []).append(p)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def exe_of(pid):
    try:
        return os.path.realpath(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return None


def memory_kb(pids):
    rss = pss = 0
    for p in pids:
        s = read("/proc/%d/smaps_rollup" % p) or ""
        for line in s.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss, pss


def ctx_switches(pids):
    total = 0
    for p in pids:
        try:
            tids = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for t in tids:
            s = read("/proc/%d/task/%s/status" % (p, t)) or ""
            for line in s.splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total


# --------------------------------------------------------------------------
# One run of one init

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


ACTIVE = set()


class Run:
    def __init__(self, env, key, services, chain=False, http=None):
        self.env, self.key, self.n = env, key, len(services)
        self.dir = tempfile.mkdtemp(prefix=key + ".", dir=env.root)
        self.stamps = os.path.join(self.dir, "stamps")
        argv = init_argv(env, key, self.dir, self.stamps, services, chain, http)
        self.log = open(os.path.join(self.dir, "output"), "wb")
        self.init = None
        self.pidfd = None
        self.proc = subprocess.Popen(
            ["unshare", "-fp", "--mount-proc", "--kill-child=SIGKILL", env.launch, self.stamps] + argv,
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent, close_fds=True, cwd=self.dir)
        ACTIVE.add(self)
        self.init = self._find_init(5.0)
        if self.init:
            try:
                self.pidfd = os.pidfd_open(self.init)
            except OSError:
                self.pidfd = None

    def _find_init(self, timeout):
        """The namespace's PID 1 as the host sees it: unshare's only child."""
        me = self.proc.pid
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for cand in range(me + 1, me + 8):  # usually the next pid
                if ppid_of(cand) == me:
                    return cand
            for p, pp in all_ppids().items():
                if pp == me:
                    return p
            if self.proc.poll() is not None:
                return None
            time.sleep(0.001)
        return None

    def lines(self):
        out = {"L": {}, "S": {}, "T": {}, "R": {}}
        try:
            with open(self.stamps) as f:
                data = f.read()
        except OSError:
            return out
        for line in data.split("\n")[:-1]:  # only complete lines
            f = line.split()
            if len(f) >= 3 and f[0] in out:
                out[f[0]][f[1]] = [int(x) for x in f[2:]]
        return out

    def wait_for(self, kind, count, timeout):
        # The stamps are taken by the processes themselves, so this poll only
        # decides when the driver moves on; it backs off (1 → 20 ms) so as
        # not to take a core from 500 services starting on 2 CPUs.
        end = time.monotonic() + timeout
        gap = 0.001
        while time.monotonic() < end:
            got = self.lines()
            if len(got[kind]) >= count:
                return got
            if self.proc.poll() is not None:
                return None
            time.sleep(gap)
            gap = min(0.02, gap * 1.5)
        return None

    def tool_pids(self):
        """The init and every process of the tool itself (not the services)."""
        if not self.init:
            return []
        stamp = os.path.realpath(self.env.stamp)
        return [p for p in descendants(self.init) if exe_of(p) not in (stamp, None)]

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        """Sends sig to PID 1; returns (ns from kill() until the namespace's
        PID 1 is gone, exit code) or (None, reason)."""
        if not self.init or self.pidfd is None:
            return None, "no init"
        poller = select.poll()
        poller.register(self.pidfd, select.POLLIN)
        t0 = time.monotonic_ns()
        try:
            os.kill(self.init, sig)
        except ProcessLookupError:
            return None, "init already gone"
        ev = poller.poll(timeout * 1000)
        t1 = time.monotonic_ns()
        if not ev:
            self.kill()
            return None, "no exit within %gs" % timeout
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, "unshare did not exit"
        return t1 - t0, 128 - rc if rc < 0 else rc

    def kill(self):
        try:
            if self.init and self.proc.poll() is None:
                os.kill(self.init, signal.SIGKILL)  # ends the whole namespace
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            try:
                self.proc.kill()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.close()

    def close(self):
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        if not self.log.closed:
            self.log.close()
        ACTIVE.discard(self)
        shutil.rmtree(self.dir, ignore_errors=True)


def kill_all():
    for r in list(ACTIVE):
        r.kill()


# --------------------------------------------------------------------------
# Results

class Results:
    def __init__(self):
        self.samples = {}   # (metric, col) -> [values]
        self.rounds = {}    # (metric, col) -> {round: value}, for paired ratios
        self.notes = []
        self.target = {}    # metric -> runs asked for

    def add(self, metric, col, value, rnd=None):
        self.samples.setdefault((metric, col), []).append(value)
        if rnd is not None:
            self.rounds.setdefault((metric, col), {})[rnd] = value

    def get(self, metric, col):
        return self.samples.get((metric, col), [])

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)
            print("  note: " + text, file=sys.stderr)


def svc(n, mode, arg=0):
    return [("s%02d" % (i + 1), mode, arg) for i in range(n)]



class Phase:
    def __init__(self, name, seconds):
        self.name = name
        self.t0 = time.monotonic()
        self.end = self.t0 + seconds
        self.cut = False
        print("[%s] up to %ds" % (name, seconds), file=sys.stderr)

    def left(self):
        return self.end - time.monotonic()

    def over(self):
        if time.monotonic() >= self.end:
            self.cut = True
        return self.cut

    def done(self, res):
        dt = time.monotonic() - self.t0
        print("[%s] %.1fs%s" % (self.name, dt, " (cut at its time limit)" if self.cut else ""),
              file=sys.stderr)
        if self.cut:
            res.note("%s: stopped at its time limit; fewer runs than asked (n shown per cell)"
                     % self.name)


# supervisord takes about a second to start and a second (one service) to
# 15 s (50 services, stopped one after the other) to stop: fewer runs of it
# keep the whole suite bounded; its figures are far from the others anyway.
ROUND_CAP = {"one": {"supervisord": 10}, "fifty": {"supervisord": 1},
             "many": {"supervisord": 1}, "storm": {"supervisord": 1}}


def capped(phase, key, r):
    cap = ROUND_CAP.get(phase, {}).get(key)
    return cap is not None and r >= cap


def rotated(cols, r):
    k = r % len(cols)
    return cols[k:] + cols[:k]


def check_code(res, scenario, key, code):
    want = COL[key][4]
    if code != want:
        res.note("%s: %s exited %s after SIGTERM (expected %s)" % (scenario, key, code, want))


# --------------------------------------------------------------------------
# Scenarios

def stripped_size(path):
    if not path:
        return None
    with tempfile.NamedTemporaryFile(delete=False) as t:
        tmp = t.name
    try:
        subprocess.run(["strip", "--strip-all", "-o", tmp, path], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return os.path.getsize(tmp)
    except (OSError, subprocess.CalledProcessError):
        return None
    finally:
        os.unlink(tmp)


def scenario_sizes(env, res, present):
    def kib(*paths):
        sizes = [stripped_size(p) for p in paths]
        return None if None in sizes else sum(sizes) / 1024

    paths = {
        "tini": [env.exe["tini"]],
        "tini-static": [env.exe["tini-static"]],
        "dumb-init": [env.exe["dumb-init"]],
        "catatonit": [env.exe["catatonit"]],
        "s6": [env.exe["s6"], shutil.which("s6-supervise")],
        "runit": [env.exe["runit"], shutil.which("runsv")],
        "ours": [env.ours],
        "ours-static": [env.ours_static],
        "floor": [env.floor],
    }
    for key, ps in paths.items():
        if key in present and all(ps):
            v = kib(*ps)
            if v is not None:
                res.add("size", key, v)


def scenario_footprint(env, res, cols1, cols50, rounds, secs, http=True):
    """RSS and Pss of the tool's own processes, each configuration alone."""
    ph = Phase("footprint", secs)
    configs = [(k, 1, None) for k in cols1] + [(k, 50, None) for k in cols50]
    if "ours-c" in cols1 and http:
        configs += [("ours-c", 1, "http"), ("ours-c", 50, "http")]
    for m in ("rss1", "pss1", "rss50", "pss50", "procs50", "rss1_http", "pss1_http", "pss50_http"):
        res.target[m] = rounds
    for r in range(rounds):
        for key, n, http in rotated(configs, r):
            if ph.over():
                break
            run = Run(env, key, svc(n, "wait"),
                      http=("127.0.0.1:%d" % free_port()) if http else None)
            try:
                if not run.wait_for("S", n, min(60, max(5, ph.left()))):
                    res.note("footprint: %s with %d services did not start them all" % (key, n))
                    continue
                time.sleep(0.5)
                rss, pss = memory_kb(run.tool_pids())
                suffix = "_http" if http else ""
                res.add("rss%d%s" % (n, suffix), key, rss)
                res.add("pss%d%s" % (n, suffix), key, pss)
                res.add("procs%d" % n, key, len(run.tool_pids()))
            finally:
                run.kill()
    ph.done(res)


def strace_count(path):
    s = read(path) or ""
    for line in s.splitlines():
        f = line.split()
        if f and f[-1] == "total":
            return int(f[3])
    return 0


def scenario_idle(env, res, cols1, cols50, secs, window=5.0):
    """System calls (strace -c) and context switches in `window` seconds of
    idleness, all configurations side by side (they make no calls to wait)."""
    ph = Phase("idle", secs)
    configs = [(k, 1, None) for k in cols1] + [(k, 50, None) for k in cols50]
    if "ours-c" in cols1:
        configs += [("ours-c", 1, "http")]
    runs = []
    try:
        for key, n, http in configs:
            runs.append((key, n, http, Run(env, key, svc(n, "wait"),
                                             http=("127.0.0.1:%d" % free_port()) if http else None)))
        ready = []
        for key, n, http, run in runs:
            if run.wait_for("S", n, max(5, min(60, ph.left()))):
                ready.append((key, n, http, run, run.tool_pids()))
            else:
                res.note("idle: %s with %d services did not start" % (key, n))
        time.sleep(2.0)  # let every tool settle (supervisord's startsecs is 1 s)
        before = [ctx_switches(pids) for *_, pids in ready]
        time.sleep(window)
        after = [ctx_switches(pids) for *_, pids in ready]
        for (key, n, http, run, pids), b, a in zip(ready, before, after):
            res.add("ctx%d%s" % (n, "_http" if http else ""), key, a - b)
        traces = []
        for key, n, http, run, pids in ready:
            out = os.path.join(run.dir, "strace")
            cmd = ["strace", "-f", "-c", "-o", out]
            for p in pids:
                cmd += ["-p", str(p)]
            traces.append((key, n, http, out, subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)))
        time.sleep(window)
        for *_, t in traces:
            t.send_signal(signal.SIGINT)
        for key, n, http, out, t in traces:
            try:
                t.wait(15)
            except subprocess.TimeoutExpired:
                t.kill()
                t.wait(5)
                res.note("idle: strace of %s did not detach" % key)
                continue
            res.add("sys%d%s" % (n, "_http" if http else ""), key, strace_count(out))
    finally:
        for *_, run in runs:
            run.kill()
    ph.done(res)


def scenario_one(env, res, cols, rounds, secs, settle=0.05):
    """Spawn latency (init exec -> child's first instruction) and SIGTERM ->
    exit with one child that exits at once on SIGTERM."""
    ph = Phase("spawn + SIGTERM", secs)
    res.target["spawn"] = res.target["term"] = rounds
    for r in range(rounds):
        for key in rotated(cols, r):
            if ph.over():
                break
            if capped("one", key, r):
                continue
            run = Run(env, key, svc(1, "wait"))
            try:
                got = run.wait_for("S", 1, 30)
                if not got or "0" not in got["L"]:
                    res.note("spawn: %s did not start its child" % key)
                    continue
                res.add("spawn", key, (got["S"]["s01"][0] - got["L"]["0"][0]) / 1000, r)
                time.sleep(settle)
                dt, code = run.stop(timeout=15)
                if dt is None:
                    res.note("SIGTERM: %s: %s" % (key, code))
                    continue
                res.add("term", key, dt / 1000, r)
                check_code(res, "SIGTERM, one child", key, code)
                if "s01" not in run.lines()["T"]:
                    if key == "runit":
                        res.note("runit: runsvdir exits at once on SIGTERM; the kernel then "
                                 "SIGKILLs its services with the namespace (no graceful stop)")
                    else:
                        res.note("SIGTERM, one child: %s's child did not get SIGTERM" % key)
            finally:
                run.kill()
    ph.done(res)


def scenario_services(env, res, n, cols, chain_cols, rounds, secs):
    """n services: until all n have exec'd; SIGTERM until all have stopped.
    The same for an n-long dependency chain (ours and the floor)."""
    ph = Phase("%d services" % n, secs)
    configs = [(k, False) for k in cols] + [(k, True) for k in chain_cols]
    for m in ("start", "stop", "graceful", "chainstart", "chainstop"):
        res.target["%s%d" % (m, n)] = rounds
    for r in range(rounds):
        for key, chain in rotated(configs, r):
            if ph.over():
                break
            if capped("fifty" if n <= 50 else "many", key, r):
                continue
            pre = "chain" if chain else ""
            what = "%d services: %s%s" % (n, key, " (chain)" if chain else "")
            run = Run(env, key, svc(n, "wait"), chain=chain)
            try:
                got = run.wait_for("S", n, max(5, min(60, ph.left() + 10)))
                if not got:
                    res.note("%s did not start all %d" % (what, n))
                    continue
                last = max(v[0] for v in got["S"].values())
                res.add("%sstart%d" % (pre, n), key, (last - got["L"]["0"][0]) / 1e6, r)
                time.sleep(0.3)
                dt, code = run.stop(timeout=60)
                if dt is None:
                    res.note("%s: %s" % (what, code))
                    continue
                res.add("%sstop%d" % (pre, n), key, dt / 1e6, r)
                res.add("%sgraceful%d" % (pre, n), key, len(run.lines()["T"]), r)
                check_code(res, "%d services" % n, key, code)
            finally:
                run.kill()
    ph.done(res)


def scenario_storm(env, res, cols, rounds, secs, orphans):
    """A service double-forks `orphans` orphans that exit at once."""
    ph = Phase("orphan storm", secs)
    for m in ("storm_ms", "storm_z", "storm_cpu"):
        res.target[m] = rounds
    for r in range(rounds):
        for key in rotated(cols, r):
            if ph.over() or ph.left() < 5:
                ph.cut = True
                break
            if capped("storm", key, r):
                continue
            run = Run(env, key, svc(1, "orphans", orphans))
            try:
                limit = max(5, min(90, ph.left()))
                got = run.wait_for("R", 1, limit)
                if not got:
                    res.note("orphan storm: %s: no result within %.0f s (the time left)" % (key, limit))
                    continue
                total, maxz, cpu, create, created = got["R"]["s01"]
                if created != orphans:
                    res.note("orphan storm: %s: only %d orphans could be created" % (key, created))
                if total < 0:
                    res.note("orphan storm: %s: orphans not all reaped within 60 s" % key)
                    continue
                res.add("storm_ms", key, total / 1e6, r)
                res.add("storm_z", key, max(0, maxz), r)
                res.add("storm_cpu", key, cpu / 1e6, r)
                res.add("storm_create", key, create / 1e6, r)
                dt, code = run.stop(timeout=15)
                if dt is not None:
                    check_code(res, "orphan storm", key, code)
            finally:
                run.kill()
    ph.done(res)


def scenario_log(env, res, cols, rounds, secs, nbytes):
    """Log throughput: one service writing `nbytes` of 80-byte lines
    (linewriter.c), everything ending in `cat > /dev/null` through a pipe:
    the plain pipe `linewriter | cat` and `supervisor run -c` with
    log = "inherit" and "prefix" piped into cat, interleaved run by run.
    MB/s of the service's bytes, from the start of the pipeline to its end."""
    ph = Phase("log throughput", secs)
    if not env.linewriter:
        res.note("log throughput: no linewriter binary (--linewriter): not measured")
        ph.done(res)
        return
    confs = {}
    for key in cols:
        for mode in ("inherit", "prefix"):
            conf = os.path.join(env.root, "log-%s-%s.toml" % (key, mode))
            with open(conf, "w") as f:
                f.write('[supervisor]\nhealth_listen = ""\ncontrol_socket = %s\n\n'
                        '[services.writer]\ncommand = %s\nlog = "%s"\n'
                        % (json.dumps(conf[:-5] + ".sock"),
                           json.dumps([env.linewriter, str(nbytes)]), mode))
            confs[(key, mode)] = conf
    configs = [("pipe", None)] + sorted(confs)
    for m in ("log_pipe", "log_inherit", "log_prefix"):
        res.target[m] = rounds
    for r in range(rounds):
        for key, mode in rotated(configs, r):
            if ph.over():
                break
            if mode is None:
                producer = [env.linewriter, str(nbytes)]
            else:
                producer = [env.exe[key], "run", "-c", confs[(key, mode)]]
            procs = []
            try:
                t0 = time.monotonic_ns()
                p1 = subprocess.Popen(producer, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
                procs.append(p1)
                p2 = subprocess.Popen(["cat"], stdin=p1.stdout, stdout=subprocess.DEVNULL,
                                      preexec_fn=_die_with_parent)
                procs.append(p2)
                p1.stdout.close()
                limit = max(10, min(120, ph.left() + 30))
                rc1 = p1.wait(limit)
                p2.wait(limit)
                dt = time.monotonic_ns() - t0
                if rc1 != 0:
                    res.note("log throughput: %s %s exited %s" % (key, mode or "", rc1))
                    continue
                res.add("log_" + (mode or "pipe"), key, nbytes / 1e6 / (dt / 1e9), r)
            except subprocess.TimeoutExpired:
                res.note("log throughput: %s %s did not finish in time" % (key, mode or ""))
            finally:
                for p in procs:
                    if p.poll() is None:
                        p.kill()
                        p.wait(5)
    ph.done(res)


# --------------------------------------------------------------------------
# Report

# metric, label, ours column for the ratio, anchors compared, kind of value
METRICS = [
    ("size", "binary size, stripped (KiB)", None, None, "size"),
    ("rss1", "RSS, one child (kB)", "ours", None, "kb"),
    ("pss1", "Pss, one child (kB)", "ours", None, "kb"),
    ("rss50", "RSS, 50 services (kB)", "ours-c", MANAGERS, "kb"),
    ("pss50", "Pss, 50 services (kB)", "ours-c", MANAGERS, "kb"),
    ("procs50", "processes of the tool, 50 services", "ours-c", MANAGERS, "n"),
    ("sys1", "idle: system calls in 5 s, one child", "ours", None, "n"),
    ("sys50", "idle: system calls in 5 s, 50 services", "ours-c", MANAGERS, "n"),
    ("ctx1", "idle: context switches in 5 s, one child", "ours", None, "n"),
    ("ctx50", "idle: context switches in 5 s, 50 services", "ours-c", MANAGERS, "n"),
    ("spawn", "spawn latency: init exec → child's first instruction (µs)", "ours", WRAPPERS, "t"),
    ("term", "SIGTERM → exit, one child (µs)", "ours", WRAPPERS, "t"),
    ("storm_ms", "orphan storm: release → all reaped (ms)", "ours", None, "t"),
    ("storm_z", "orphan storm: most zombies at once", "ours", None, "n"),
    ("storm_cpu", "orphan storm: PID 1 CPU time (ms)", "ours", None, "t"),
    ("start50", "50 services: init exec → all 50 exec'd (ms)", "ours-c", MANAGERS, "t"),
    ("stop50", "50 services: SIGTERM → all stopped, exit (ms)", "ours-c", MANAGERS, "t"),
    ("graceful50", "50 services: services that got SIGTERM (of 50)", "ours-c", MANAGERS, "n"),
    ("start500", "500 services: init exec → all 500 exec'd (ms)", "ours-c", MANAGERS, "t"),
    ("stop500", "500 services: SIGTERM → all stopped, exit (ms)", "ours-c", MANAGERS, "t"),
    ("graceful500", "500 services: services that got SIGTERM (of 500)", "ours-c", MANAGERS, "n"),
    ("chainstart50", "50-long chain: init exec → all 50 exec'd (ms)", "ours-c", None, "t"),
    ("chainstop50", "50-long chain: SIGTERM → all stopped, exit (ms)", "ours-c", None, "t"),
    ("chaingraceful50", "50-long chain: services that got SIGTERM (of 50)", "ours-c", None, "n"),
    ("rss1_http", "endpoint on: RSS, one service (kB)", "ours-c", None, "kb"),
    ("pss1_http", "endpoint on: Pss, one service (kB)", "ours-c", None, "kb"),
    ("pss50_http", "endpoint on: Pss, 50 services (kB)", "ours-c", None, "kb"),
    ("sys1_http", "endpoint on: idle system calls in 5 s", "ours-c", None, "n"),
]


def fmt(v):
    if v is None:
        return "—"
    if float(v).is_integer():
        return "%d" % v
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 100:
        return "%d" % round(v)
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3f" % v


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def cell(res, metric, col):
    vals = [v for v in res.get(metric, col) if v is not None]
    if not vals:
        return "—"
    m = statistics.median(vals)
    lo, hi = min(vals), max(vals)
    s = fmt(m)
    if lo != hi:
        s += " (%s–%s)" % (fmt(lo), fmt(hi))
    want = res.target.get(metric)
    if want and len(vals) < want:
        s += " n=%d" % len(vals)
    return s


ANCHORS = [c[0] for c in COLUMNS if c[2] == "anchor"]


def graceful_only(res, metric, keys):
    """For a "SIGTERM → all stopped" row of n services: only the tools whose
    services all got their SIGTERM (runsvdir exits at once and the kernel
    SIGKILLs the rest: fast, but no graceful stop)."""
    if not metric.startswith(("stop", "chainstop")):
        return keys
    n = metric.rsplit("stop", 1)[1]
    g = "graceful" + n if metric.startswith("stop") else "chaingraceful" + n
    return [k for k in keys if (med(res.get(g, k)) or 0) >= int(n)]


def best_anchor(res, metric, group):
    keys = graceful_only(res, metric, group or ANCHORS)
    cands = [(med(res.get(metric, k)), k) for k in keys]
    cands = [(m, k) for m, k in cands if m is not None]
    return min(cands) if cands else (None, None)


def paired(res, ma, ca, mb, cb):
    """Per-round ratios (ma, ca) ÷ (mb, cb), both measured in the same round
    (tools interleaved within a round): (median, min, max, n) or None."""
    ra, rb = res.rounds.get((ma, ca), {}), res.rounds.get((mb, cb), {})
    rs = [ra[r] / rb[r] for r in ra if r in rb and rb[r]]
    if not rs:
        return None
    return statistics.median(rs), min(rs), max(rs), len(rs)


def fmt_ratio(p):
    if p is None:
        return "—"
    m, lo, hi, n = p
    if n == 1:
        return "%.2f×" % m
    return "**%.2f×** (%.2f–%.2f)" % (m, lo, hi)


# Issue 14's ratios: label, metric, unit, ours Release column, ours static
# column, anchors (best by median; None: every anchor), floor column.
RATIO_ROWS = [
    ("spawn: init exec → child's first instruction", "spawn", "µs", "ours", "ours-static",
     PAIR_WRAPPERS),
    ("SIGTERM → exit, one child", "term", "µs", "ours", "ours-static", PAIR_WRAPPERS),
    ("orphan storm: release → all reaped", "storm_ms", "ms", "ours", "ours-static", None),
    ("orphan storm: PID 1 CPU", "storm_cpu", "ms", "ours", "ours-static", None),
    ("50 services: start → all exec'd", "start50", "ms", "ours-c", "ours-static-c", MANAGERS),
    ("50 services: SIGTERM → all stopped (graceful)", "stop50", "ms", "ours-c", "ours-static-c",
     MANAGERS),
    ("500 services: start → all exec'd", "start500", "ms", "ours-c", "ours-static-c", MANAGERS),
    ("500 services: SIGTERM → all stopped (graceful)", "stop500", "ms", "ours-c",
     "ours-static-c", MANAGERS),
    ("50 services, log = inherit: SIGTERM → all stopped", "stop50", "ms", None,
     "ours-static-inherit", MANAGERS),
    ("500 services, log = inherit: SIGTERM → all stopped", "stop500", "ms", None,
     "ours-static-inherit", MANAGERS),
    ("50-long chain: start → all exec'd", "chainstart50", "ms", "ours-c", "ours-static-c", []),
    ("50-long chain: SIGTERM → all stopped", "chainstop50", "ms", "ours-c", "ours-static-c", []),
]


def use_many(n):
    """The big row has n services (--many) rather than 500: its metric keys
    and labels follow."""
    global METRICS, RATIO_ROWS
    if n == 500:
        return
    sub = lambda t: t.replace("500", str(n))
    METRICS = [(sub(m), sub(label)) + tuple(rest) if "500" in m else (m, label) + tuple(rest)
               for m, label, *rest in METRICS]
    RATIO_ROWS = [(sub(label), sub(m)) + tuple(rest) if "500" in m else (label, m) + tuple(rest)
                  for label, m, *rest in RATIO_ROWS]


def ratios_table(res):
    out = ["| row | best anchor (median) | floor (median) | Release ÷ anchor | Release ÷ floor "
           "| static ÷ anchor | static ÷ floor |",
           "|---|---|---|---|---|---|---|"]
    for label, metric, unit, dyn, sta, group in RATIO_ROWS:
        if not any(res.get(metric, k) for k in (dyn, sta) if k):
            continue
        b, k = best_anchor(res, metric, group) if group != [] else (None, None)
        f = med(res.get(metric, "floor"))
        row = [label, "%s %s %s" % (k, fmt(b), unit) if k else "—",
               "%s %s" % (fmt(f), unit) if f is not None else "—"]
        for ours in (dyn, sta):
            row.append(fmt_ratio(paired(res, metric, ours, metric, k)) if k and ours else "—")
            row.append(fmt_ratio(paired(res, metric, ours, metric, "floor")) if ours else "—")
        out.append("| " + " | ".join(row) + " |")
    base = med(res.get("log_pipe", "pipe"))
    for mode in ("prefix", "inherit"):
        if not (res.get("log_" + mode, "ours") or res.get("log_" + mode, "ours-static")):
            continue
        row = ["log throughput, %s mode: MB/s ÷ plain pipe" % mode,
               "`writer | cat` %s MB/s" % fmt(base), "—"]
        for ours in ("ours", "ours-static"):
            row.append(fmt_ratio(paired(res, "log_" + mode, ours, "log_pipe", "pipe")))
            row.append("—")
        out.append("| " + " | ".join(row) + " |")
    return "\n".join(out)


def ratio(a, b):
    if a is None or b is None:
        return "—"
    if b == 0:
        return "= (0)" if a == 0 else "∞ (best is 0)"
    return "%.2f×" % (a / b)


def report(res, env, cols_present, info):
    out = []
    cols = [c for c in COLUMNS if c[0] in cols_present]
    out.append("| metric | " + " | ".join(c[1] for c in cols) + " | best anchor | ours ÷ best |")
    out.append("|---|" + "---|" * len(cols) + "---|---|")
    for metric, label, ours_col, group, kind in METRICS:
        if not any(res.get(metric, c[0]) for c in cols):
            continue
        row = [label] + [cell(res, metric, c[0]) for c in cols]
        if metric == "size":
            dyn = ["tini", "dumb-init", "s6", "runit"]
            sta = ["tini-static", "catatonit"]
            bd, kd = best_anchor(res, metric, dyn)
            bs, ks = best_anchor(res, metric, sta)
            row.append("%s %s; static: %s %s" % (kd, fmt(bd), ks, fmt(bs)))
            row.append("dynamic %s; static %s" % (ratio(med(res.get(metric, "ours")), bd),
                                                 ratio(med(res.get(metric, "ours-static")), bs)))
        elif metric.startswith(("graceful", "chaingraceful", "procs")):
            row += ["—", "—"]
        else:
            b, k = best_anchor(res, metric, group)
            row.append("%s %s" % (k, fmt(b)) if k else "—")
            row.append(ratio(med(res.get(metric, ours_col)), b))
        out.append("| " + " | ".join(row) + " |")
    return "\n".join(out)


def aims(res):
    """The aims of issue 7, judged on the medians of this run."""
    m = lambda k, c: med(res.get(k, c))
    lines = []

    def aim(text, ok, detail):
        state = "n/a" if ok is None else ("met" if ok else "NOT met")
        lines.append("- %s: **%s** (%s)" % (text, state, detail))

    s1, s50 = m("sys1", "ours"), m("sys50", "ours-c")
    aim("idle: 0 system calls in 5 s", None if s1 is None else (s1 == 0 and (s50 in (None, 0))),
        "ours `run --` %s, `run -c` 50 services %s" % (fmt(s1), fmt(s50)))
    for key, text in (("spawn", "spawn latency ≤ fastest of tini, dumb-init, catatonit"),
                      ("term", "SIGTERM → exit ≤ fastest of tini, dumb-init, catatonit")):
        b, k = best_anchor(res, key, WRAPPERS)
        o = m(key, "ours")
        aim(text, None if o is None or b is None else o <= b,
            "ours %s µs vs %s %s µs, ratio %s" % (fmt(o), k, fmt(b), ratio(o, b)))
    z, cpu, dcpu = m("storm_z", "ours"), m("storm_cpu", "ours"), m("storm_cpu", "dumb-init")
    aim("orphan storm: a handful of zombies at most (≤ 5)", None if z is None else z <= 5,
        "ours: most at once %s (max over runs %s)" % (fmt(z), fmt(max(res.get("storm_z", "ours") or [0]))))
    aim("orphan storm: PID 1 CPU ≤ dumb-init's", None if cpu is None or dcpu is None else cpu <= dcpu,
        "ours %s ms vs dumb-init %s ms" % (fmt(cpu), fmt(dcpu)))
    o, rn = m("start50", "ours-c"), m("start50", "runit")
    aim("50 services all started faster than runit", None if o is None or rn is None else o < rn,
        "ours %s ms vs runit %s ms" % (fmt(o), fmt(rn)))
    o, s6 = m("stop50", "ours-c"), m("stop50", "s6")
    g = m("graceful50", "ours-c")
    aim("50 services all stopped gracefully faster than s6",
        None if o is None or s6 is None else (o < s6 and g == 50),
        "ours %s ms (%s of 50 got SIGTERM) vs s6 %s ms" % (fmt(o), fmt(g), fmt(s6)))
    p = m("pss50", "ours-c")
    aim("Pss with 50 services under 2 MB (1953 KiB)", None if p is None else p < 1953,
        "ours %s kB" % fmt(p))
    st = m("size", "ours-static")
    aim("static binary under 1.5 MiB stripped", None if st is None else st < 1536,
        "ours static %s KiB" % fmt(st))
    return "\n".join(lines)


def aims14(res):
    """The aims of issue 14, judged on this run's paired ratios (medians of
    the per-round ratios) and medians."""
    m = lambda k, c: med(res.get(k, c))
    lines = []

    def aim(text, ok, detail):
        state = "n/a" if ok is None else ("met" if ok else "NOT met")
        lines.append("- %s: **%s** (%s)" % (text, state, detail))

    def pr(metric, ours, other, other_metric=None):
        p = paired(res, metric, ours, other_metric or metric, other)
        return p[0] if p else None

    def judge(parts):
        """parts: [(value, limit)]; None when nothing was measured."""
        parts = [(v, lim) for v, lim in parts if v is not None]
        return None if not parts else all(v <= lim for v, lim in parts)

    def r2(v):
        return "—" if v is None else "%.2f×" % v

    for metric, text in (("spawn", "one child: spawn"), ("term", "one child: SIGTERM → exit")):
        b, k = best_anchor(res, metric, PAIR_WRAPPERS)
        st, dy = pr(metric, "ours-static", k), pr(metric, "ours", k)
        aim("%s ≤ 1.0× best of tini-static/dumb-init/catatonit (static), ≤ 1.2× (Release)" % text,
            judge([(st, 1.0), (dy, 1.2)]) if k else None,
            "vs %s: static %s, Release %s" % (k, r2(st), r2(dy)))
    b, k = best_anchor(res, "storm_ms", None)
    st, dy = pr("storm_ms", "ours-static", k), pr("storm_ms", "ours", k)
    aim("orphan storm: release → all reaped ≤ 1.0× best anchor", judge([(st, 1.0), (dy, 1.0)]) if k else None,
        "vs %s: static %s, Release %s" % (k, r2(st), r2(dy)))
    st, dy = pr("storm_cpu", "ours-static", "dumb-init"), pr("storm_cpu", "ours", "dumb-init")
    aim("orphan storm: PID 1 CPU ≤ 1.2× dumb-init's", judge([(st, 1.2), (dy, 1.2)]),
        "static %s, Release %s" % (r2(st), r2(dy)))
    many = max([int(k[0][5:]) for k in res.samples if k[0].startswith("start") and
                k[0][5:].isdigit() and int(k[0][5:]) > 50] or [500])
    for n in (50, many):
        for ours, name in (("ours-static-c", "static"), ("ours-c", "Release")):
            s1, s2 = pr("start%d" % n, ours, "floor"), pr("stop%d" % n, ours, "floor")
            g = m("graceful%d" % n, ours)
            ok = judge([(s1, 1.25), (s2, 1.1)])
            if ok is not None and g is not None and g < n:
                ok = False
            aim("%d services, %s: start ≤ 1.25× floor, graceful stop ≤ 1.1× floor" % (n, name), ok,
                "start %s, stop %s, %s of %d got SIGTERM" % (r2(s1), r2(s2), fmt(g), n))
    grow = many / 50
    for ours, name in (("ours-static-c", "static"), ("ours-c", "Release")):
        parts, detail = [], []
        for what in ("start", "stop"):
            o50, o500 = m(what + "50", ours), m("%s%d" % (what, many), ours)
            f50, f500 = m(what + "50", "floor"), m("%s%d" % (what, many), "floor")
            if None in (o50, o500) or not o50:
                continue
            parts.append((o500 / o50, 1.25 * grow))
            detail.append("%s ×%.1f%s" % (what, o500 / o50,
                                          " (floor ×%.1f)" % (f500 / f50) if f50 and f500 else ""))
        aim("cost linear in the services, %s: 50 → %d services costs ≤ 1.25 × %g× as much"
            % (name, many, grow), judge(parts), ", ".join(detail) or "not measured")
    p_st, p_dy, p_fl = m("pss1", "ours-static"), m("pss1", "ours"), m("pss1", "floor")
    aim("idle Pss with one child ≤ 1 MB (1000 kB), static", None if p_st is None else p_st <= 1000,
        "static %s kB, Release %s kB, floor %s kB, tini-static %s kB"
        % (fmt(p_st), fmt(p_dy), fmt(p_fl), fmt(m("pss1", "tini-static"))))
    idle = [(k, m("sys1", k)) for k in ("ours-static", "ours")] + [("ours-c, 50 services", m("sys50", "ours-c"))]
    measured = [v for _, v in idle if v is not None]
    aim("no idle wake-up: 0 system calls in 5 s", None if not measured else all(v == 0 for v in measured),
        ", ".join("%s %s" % (k, fmt(v)) for k, v in idle if v is not None) +
        "; floor %s" % fmt(m("sys1", "floor")))
    for mode, lim in (("prefix", 0.8), ("inherit", 0.95)):
        st = pr("log_" + mode, "ours-static", "pipe", "log_pipe")
        dy = pr("log_" + mode, "ours", "pipe", "log_pipe")
        aim("log throughput, %s mode ≥ %.2f× a plain `writer | cat` pipe" % (mode, lim),
            None if st is None and dy is None else all(v >= lim for v in (st, dy) if v is not None),
            "Release %s, static %s" % (r2(dy), r2(st)))
    return "\n".join(lines)


def log_table(res):
    rows = [("plain pipe: `linewriter | cat`", "log_pipe", "pipe")]
    for key, name in (("ours", "ours (Release)"), ("ours-static", "ours static")):
        for mode in ("inherit", "prefix"):
            rows.append(("%s, log = \"%s\", into cat" % (name, mode), "log_" + mode, key))
    out = ["| log throughput | MB/s median (min–max) | ÷ pipe, paired |", "|---|---|---|"]
    for label, metric, key in rows:
        if res.get(metric, key):
            p = None if key == "pipe" else paired(res, metric, key, "log_pipe", "pipe")
            out.append("| %s | %s | %s |" % (label, cell(res, metric, key), fmt_ratio(p)))
    return "\n".join(out) if len(out) > 2 else ""


def machine_info():
    model = "?"
    for line in (read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    tree = None
    try:
        top = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
        head = subprocess.run(["git", "-C", top, "rev-parse", "--short", "HEAD"], timeout=10,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", top, "status", "--porcelain", "--untracked-files=no"],
                               timeout=10, capture_output=True, text=True).stdout.strip()
        if head:
            tree = head + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "loadavg": (read("/proc/loadavg") or "").split()[:3],
            "date": time.strftime("%Y-%m-%d %H:%M %Z"), "tree": tree}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launch", required=True)
    ap.add_argument("--stamp", required=True)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--ours-static")
    ap.add_argument("--floor", help="floor_init (bench/floor_init.c): the floor column")
    ap.add_argument("--linewriter", help="linewriter (bench/linewriter.c): the log scenario")
    ap.add_argument("--rounds-spawn", type=int, default=50)
    ap.add_argument("--rounds-footprint", type=int, default=3)
    ap.add_argument("--rounds-fifty", type=int, default=10)
    ap.add_argument("--rounds-many", type=int, default=3)
    ap.add_argument("--many", type=int, default=500, help="services in the big row")
    ap.add_argument("--rounds-storm", type=int, default=3)
    ap.add_argument("--orphans", type=int, default=5000)
    ap.add_argument("--rounds-log", type=int, default=5)
    ap.add_argument("--log-bytes", type=int, default=1 << 30)
    ap.add_argument("--idle-window", type=float, default=5.0)
    ap.add_argument("--budget", type=float, default=420, help="seconds for all scenarios")
    ap.add_argument("--quick", action="store_true", help="report the ratios only")
    ap.add_argument("--only", default="",
                    help="comma list: sizes,footprint,idle,one,fifty,many,storm,log")
    ap.add_argument("--tools", default="", help="comma list of columns to run (default: all)")
    ap.add_argument("--json", help="write raw samples here")
    ap.add_argument("--markdown", help="write the report here too")
    a = ap.parse_args()

    if os.geteuid() != 0:
        sys.exit("bench: must run as root (PID namespaces, strace of other processes)")
    env = Env(a)
    use_many(a.many)
    chosen = set(a.tools.split(",")) if a.tools else None
    present = [c[0] for c in COLUMNS if env.available(c[0]) and (chosen is None or c[0] in chosen)]
    missing = [c[0] for c in COLUMNS if not env.available(c[0])]
    res = Results()
    if missing:
        res.note("not measured (not installed / not built): " + ", ".join(missing))
    if "supervisord" in present:
        res.note("supervisord: at most %d runs for spawn/SIGTERM, %d for 50 services, %d for the "
                 "storm (each run takes seconds); not run with %d services (stopping them takes "
                 "minutes)" % (ROUND_CAP["one"]["supervisord"], ROUND_CAP["fifty"]["supervisord"],
                               ROUND_CAP["storm"]["supervisord"], a.many))
    only = set(a.only.split(",")) if a.only else None
    want = lambda s: only is None or s in only

    # Ours first: the first round then measures it even when a phase is cut
    # short; later rounds rotate the order.
    first = [k for k in present if COL[k][2] == "ours"] + [k for k in present if COL[k][2] != "ours"]
    # The storm exercises the reaping loop, the same code in both of our
    # modes: ours `run --` of both builds against every anchor (tini-static
    # for tini: the same code) and the floor.
    inherit = [k for k in first if k.endswith("-inherit")]  # the services rows only
    storm_cols = [k for k in first if k not in ["tini", "ours-c", "ours-static-c"] + inherit]
    one_cols = [k for k in first if k not in inherit]
    fifty_cols = [k for k in first if COL[k][3] != "wrap"]
    many_cols = [k for k in fifty_cols if k != "supervisord"]
    chain_cols = [k for k in first if COL[k][3] in ("conf", "floor") and k not in inherit]
    footprint_cols = [k for k in fifty_cols if k not in inherit]
    log_cols = [k for k in ("ours", "ours-static") if k in present]

    # Shares of the budget; a phase that ends early leaves its time to the next.
    shares = [("footprint", 0.11), ("idle", 0.05), ("one", 0.18), ("fifty", 0.27),
              ("many", 0.10), ("storm", 0.20), ("log", 0.09)]
    if a.quick:
        # Fewer rounds: the fixed costs (idle's 12 s) weigh more. The one-child
        # rows only for the columns of the ratios (`run --`, not `run -c`).
        shares = [("footprint", 0.07), ("idle", 0.14), ("one", 0.16), ("fifty", 0.24),
                  ("many", 0.16), ("storm", 0.15), ("log", 0.08)]
        one_cols = [k for k in one_cols if COL[k][3] in ("wrap", "floor")]
    info = machine_info()
    t_start = time.monotonic()

    def handler(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, handler)
    try:
        if want("sizes"):
            scenario_sizes(env, res, present)
        spent_share = 0.0
        for name, share in shares:
            spent_share += share
            # Everything left up to this phase's cumulative share of the budget.
            secs = max(10, a.budget * spent_share - (time.monotonic() - t_start))
            if not want(name):
                continue
            if name == "footprint":
                # --quick: the one-child Pss only (the aim of issue 14).
                scenario_footprint(env, res, one_cols, [] if a.quick else footprint_cols,
                                   a.rounds_footprint, secs, http=not a.quick)
            elif name == "idle":
                scenario_idle(env, res, one_cols, footprint_cols, secs, a.idle_window)
            elif name == "one":
                scenario_one(env, res, one_cols, a.rounds_spawn, secs)
            elif name == "fifty":
                scenario_services(env, res, 50, fifty_cols, chain_cols, a.rounds_fifty, secs)
            elif name == "many":
                scenario_services(env, res, a.many, many_cols, [], a.rounds_many, secs)
            elif name == "storm":
                scenario_storm(env, res, storm_cols, a.rounds_storm, secs, a.orphans)
            elif name == "log":
                scenario_log(env, res, log_cols, a.rounds_log, secs, a.log_bytes)
    except KeyboardInterrupt:
        res.note("interrupted: partial results")
    finally:
        kill_all()
        shutil.rmtree(env.root, ignore_errors=True)

    info["seconds"] = round(time.monotonic() - t_start, 1)
    info["loadavg_end"] = (read("/proc/loadavg") or "").split()[:3]
    text = []
    text.append("Run %s; machine: %d CPUs, %s, Linux %s; load average %s at start, %s at end; "
                "scenarios took %.0f s%s." % (info["date"], info["nproc"], info["cpu"], info["kernel"],
                                              " ".join(info["loadavg"]),
                                              " ".join(info["loadavg_end"]), info["seconds"],
                                              "; tree " + info["tree"] if info.get("tree") else ""))
    text.append("")
    text.append("Ratios (issue 14): the median of per-round ratios, each of ours over the other "
                "tool in the same round (tools interleaved within a round), with (min–max) over "
                "the rounds. \"anchor\": the anchor with the best median in this run (one child: "
                "of tini-static, dumb-init, catatonit; services: of s6, runit, supervisord, "
                "counting for a stop only those whose services all got SIGTERM); \"floor\": "
                "bench/floor_init.c, a minimal C PID 1. Release: `run --` for one child, `run -c` "
                "for services; static: the same with the static MinSizeRel build. Above 1 ours "
                "is slower (log rows: a rate, below 1 ours is slower).")
    text.append("")
    text.append(ratios_table(res))
    text.append("")
    text.append("Aims (issue 14):")
    text.append("")
    text.append(aims14(res))
    if not a.quick:
        text.append("")
        text.append("All results: median (min–max) over the runs; n=K where a time limit left "
                    "fewer runs than asked. \"ours ÷ best\": ours (the column named by the "
                    "metric: `run --` for one child, `run -c` for services) ÷ the best anchor's "
                    "median (ratio of medians, not paired).")
        text.append("")
        text.append(report(res, env, present, info))
        lt = log_table(res)
        if lt:
            text.append("")
            text.append(lt)
        text.append("")
        text.append("Aims (issue 7):")
        text.append("")
        text.append(aims(res))
    if res.notes:
        text.append("")
        text.append("Notes:")
        text.append("")
        text += ["- " + n for n in res.notes]
    md = "\n".join(text) + "\n"
    sys.stdout.write(md)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(md)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"machine": info, "notes": res.notes,
                       "samples": {"%s/%s" % k: v for k, v in res.samples.items()},
                       "rounds": {"%s/%s" % k: v for k, v in res.rounds.items()}}, f, indent=1)


if __name__ == "__main__":
    main()
