"""Hardening (docs/lifecycle.md, docs/configuration.md): ids that could wrap
to root, the child between fork and exec, signals no manager may lose,
nothing of a crashed run left behind, a floor under the back-off, and
descriptor limits. Each test failed before its fix. Every wait is bounded;
services record what happens to them with CLOCK_MONOTONIC stamps."""
import json
import os
import resource
import signal
import subprocess
import time

import pytest

from conftest import (BIN, Run, Stream, free_port, get_json, helper, proc_table, read_events, wait_events,
                      wait_http, write_config)

STAMP = helper("stamp")
CATCHER = helper("catcher")
MODES = [pytest.param(False, id="plain"), pytest.param(True, id="pid1")]
HEAD = '[supervisor]\nhealth_listen = ""\n'


def descendants(root, table=None):
    table = proc_table() if table is None else table
    kids = {}
    for pid, (state, ppid) in table.items():
        if state != "Z":
            kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout}s")
        time.sleep(0.02)  # polling /proc or a file, bounded


# --- ids never wrap round to root -------------------------------------------

@pytest.mark.parametrize("value", ['"4294967296"', '"123456789012345678901"', "4294967296",
                                   '"4294967295"'])
def test_out_of_range_user_is_refused_by_check_and_run_alike(tmp_path, value):
    cfg = write_config(tmp_path, f'[services.a]\ncommand = ["true"]\nuser = {value}\n')
    expected = f"{cfg}:3:8: user: {value.strip(chr(34))} is out of range (0..4294967294)"
    check = subprocess.run([BIN, "check", "-c", cfg], capture_output=True, text=True, timeout=10)
    assert check.returncode == 2
    assert check.stderr.strip() == expected
    with Run(["run", "-c", cfg]) as r:
        assert r.wait(10) == 2
    assert r.err.text().strip() == expected


def test_numeric_user_without_entry_gets_its_own_gid_not_roots(tmp_path):
    cfg = HEAD + """
[services.a]
command = "echo uid=$(id -u) gid=$(id -g) groups=$(id -G) home=$HOME user=$USER"
user = "4242"
type = "oneshot"
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        assert r.wait(10) == 0, r.err.text()
    assert r.out.text().strip() == "a | uid=4242 gid=4242 groups=4242 home=/ user=4242"


# --- the child between fork and exec -----------------------------------------

def test_program_is_found_in_the_services_own_path(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    prog = bindir / "only-here-4242"
    prog.write_text(f"#!/bin/sh\n{STAMP} {tmp_path}/ev found it\n")
    prog.chmod(0o755)
    cfg = HEAD + f"""
[services.a]
command = ["only-here-4242"]
env = {{ PATH = "{bindir}:/usr/bin:/bin" }}
type = "oneshot"
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        assert r.wait(10) == 0, r.err.text()
    assert [e[:2] for e in read_events(str(tmp_path / "ev"))] == [("found", "it")]


def test_a_descriptor_leaked_to_the_supervisor_does_not_reach_services(tmp_path):
    out = tmp_path / "fds"
    cfg = HEAD + f"""
[services.a]
command = ["/bin/sh", "-c", "ls /proc/self/fd > {out}"]
type = "oneshot"
"""
    leaked = os.open("/dev/null", os.O_RDONLY)  # no O_CLOEXEC on purpose
    high = 42
    os.dup2(leaked, high, inheritable=True)
    os.close(leaked)
    try:
        full = [BIN, "run", "-c", write_config(tmp_path, cfg)]
        p = subprocess.run(full, capture_output=True, text=True, timeout=10, pass_fds=(high,))
    finally:
        os.close(high)
    assert p.returncode == 0, p.stderr
    fds = out.read_text().split()
    assert str(high) not in fds, fds


# --- signals no manager may lose -------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGPWR, signal.SIGRTMIN + 3],
                         ids=["SIGPWR", "SIGRTMIN+3"])
def test_container_manager_stop_signals_stop_pid1_gracefully(tmp_path, events, sig):
    cfg = HEAD + f"""
[services.db]
command = ["{CATCHER}", "{events}", "db"]
[services.api]
command = ["{CATCHER}", "{events}", "api"]
depends_on = ["db"]
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=True) as r:
        wait_events(events, 1, "api", "started")
        r.signal(sig)
        assert r.wait(10) == 0, r.err.text()
    evts = read_events(events)
    got = [(e[0], e[1]) for e in evts if e[1] == "SIGTERM"]
    assert got == [("api", "SIGTERM"), ("db", "SIGTERM")], evts


def test_other_signals_are_logged_and_never_fatal(tmp_path, events):
    cfg = HEAD + f'[services.a]\ncommand = ["{CATCHER}", "{events}", "a"]\n'
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        wait_events(events, 1, "a", "started")
        for sig in (signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF, signal.SIGXCPU,
                    signal.SIGRTMIN + 5):
            r.signal(sig)
        r.err.wait_for(r"received SIGALRM; ignoring it", 5)
        r.err.wait_for(r"received SIGPROF; ignoring it", 5)
        assert r.proc.poll() is None
        r.signal(signal.SIGTERM)
        assert r.wait(10) == 0, r.err.text()
    assert [e[1] for e in read_events(events) if e[0] == "a"] == ["started", "SIGTERM"]


@pytest.mark.parametrize("pid1", MODES)
def test_single_command_forwards_every_catchable_signal_and_a_second_sigint(tmp_path, pid1):
    ev = str(tmp_path / "ev")
    script = (f"n=0; for s in ALRM URG USR1 CONT; do trap \"{STAMP} {ev} got $s\" $s; done; "
              f"trap 'n=$((n+1)); {STAMP} {ev} got INT$n; [ $n = 2 ] && exit 0' INT; "
              f"{STAMP} {ev} ready x; while :; do sleep 0.05; done")
    with Run(["run", "--", "bash", "-c", script], pid1=pid1) as r:
        wait_events(ev, 1, "ready", "x")
        for sig, word in ((signal.SIGALRM, "ALRM"), (signal.SIGURG, "URG")):
            r.signal(sig)
            wait_events(ev, 1, "got", word)
        r.signal(signal.SIGINT)
        wait_events(ev, 1, "got", "INT1")
        r.signal(signal.SIGINT)  # tini forwards the second one too; nothing is SIGKILLed
        assert r.wait(10) == 0, r.err.text()
    assert [e[1] for e in read_events(ev) if e[0] == "got"] == ["ALRM", "URG", "INT1", "INT2"]


# --- nothing left behind -----------------------------------------------------

@pytest.mark.parametrize("pid1", MODES)
def test_a_crashed_leaders_group_is_cleaned_up_before_each_restart(tmp_path, pid1):
    port = free_port()
    # The workers ignore SIGTERM (inherited from the trap), like a web
    # server's workers that would keep the port: only SIGKILL ends them.
    cfg = f"""
[supervisor]
health_listen = "127.0.0.1:{port}"
[services.web]
command = "trap '' TERM; sleep 1000 & sleep 1000 & wait"
restart = "always"
stop_grace = "300ms"
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        wait_http(port, "/readyz")
        sv = r.sv_pid
        pids_seen = set()
        for _ in range(5):
            leader = wait_until(lambda: get_json(port)["services"][0]["pid"], 10, "a leader")
            wait_until(lambda: len(descendants(sv)) >= 3, 10, "the workers")
            pids_seen.add(leader)
            os.kill(leader if not pid1 else _outside_pid(sv, leader), signal.SIGKILL)
            # The next run starts only once the old group is gone.
            wait_until(lambda: (get_json(port)["services"][0]["pid"] or leader) != leader, 10,
                       "a new run")
            assert len(descendants(sv)) <= 3, descendants(sv)
        assert len(pids_seen) == 5
        r.err.wait_for(r"web: stopping what is left of its process group \(SIGTERM, grace 300ms\)")
        t0 = r.signal(signal.SIGTERM)
        code = r.wait(10)
        took = time.monotonic() - t0
    assert code == 1, r.err.text()  # the workers needed SIGKILL at the shutdown
    assert took < 3, took


def _outside_pid(sv_outside, inside):
    """The pid (as seen from here) of the process that is `inside` in the
    supervisor's PID namespace: the descendant whose NSpid ends with it."""
    for pid in descendants(sv_outside):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("NSpid:") and int(line.split()[-1]) == inside:
                        return pid
        except OSError:
            pass
    raise AssertionError(f"no process {inside} under {sv_outside}")


# --- the back-off floor --------------------------------------------------------

def test_zero_restart_delay_is_no_tight_loop(tmp_path, events):
    cfg = HEAD + f"""
[services.crashy]
command = "{STAMP} {events} crashy run; exit 1"
restart = "always"
restart_delay = "0s"
restart_delay_max = "0s"
critical = false
[services.steady]
command = ["{CATCHER}", "{events}", "steady"]
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        wait_events(events, 6, "crashy", "run", timeout=10)
        r.signal(signal.SIGTERM)
        assert r.wait(10) == 0, r.err.text()
    runs = [int(e[2]) / 1e9 for e in read_events(events) if e[:2] == ("crashy", "run")]
    gaps = [b - a for a, b in zip(runs, runs[1:])]
    assert min(gaps) >= 0.009, gaps  # at least the 10 ms floor between two runs


# --- descriptors -------------------------------------------------------------

def limit_nofile(soft, hard):
    def set_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return set_limit


def test_six_hundred_services_with_a_soft_limit_of_1024(tmp_path):
    port = free_port()
    out = tmp_path / "limits"
    cfg = f'[supervisor]\nhealth_listen = "127.0.0.1:{port}"\n'
    cfg += f"""
[services.probe]
command = "grep 'Max open files' /proc/self/limits > {out}; exec sleep 1000"
"""
    for i in range(600):
        cfg += f'[services.s{i}]\ncommand = ["sleep", "1000"]\n'
    path = write_config(tmp_path, cfg)
    env = dict(os.environ, NO_COLOR="1")
    p = subprocess.Popen([BIN, "run", "-c", path], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=env, preexec_fn=limit_nofile(1024, 20000),
                         start_new_session=True)
    try:
        wait_http(port, "/readyz", timeout=60)
        with open(f"/proc/{p.pid}/limits") as f:
            own = [l for l in f if l.startswith("Max open files")][0].split()
        assert own[3] == own[4] == "20000", own  # raised to the hard limit
        # The services get the limit the supervisor was started with.
        assert out.read_text().split()[3:5] == ["1024", "20000"]
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 0
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def test_a_limit_that_is_hit_is_named_with_its_value(tmp_path):
    cfg = HEAD
    for i in range(40):
        cfg += f'[services.s{i}]\ncommand = ["sleep", "1000"]\ncritical = false\n'
    path = write_config(tmp_path, cfg)
    p = subprocess.Popen([BIN, "run", "-c", path], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, preexec_fn=limit_nofile(48, 48),
                         start_new_session=True)
    try:
        err = Stream(p.stderr)
        # Whichever descriptor runs out first (/dev/null, then the pipes) is
        # named, with the limit's value.
        err.wait_for(r"cannot (open /dev/null|create pipes): Too many open files "
                     r"\(open files limit: 48\)", 15)
        p.send_signal(signal.SIGTERM)
        p.wait(30)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


# --- a console that cannot keep up -------------------------------------------

def test_a_stalled_console_without_proc_never_blocks_the_loop_or_the_services(tmp_path, events):
    """As a VM's init before /proc: stdout is a terminal that cannot be
    reopened non-blocking. Nobody reads it here (a stalled serial console):
    the endpoint keeps answering, a chatty service is never throttled, and
    the lines that could not be shown are counted, not silently lost."""
    import pty
    port = free_port()
    cfg = f"""
[supervisor]
health_listen = "127.0.0.1:{port}"
[services.chatty]
command = "i=0; while [ $i -lt 20000 ]; do echo line $i of chatter to fill the console; i=$((i+1)); done; {STAMP} {events} chatty done; exec sleep 1000"
[services.steady]
command = ["{CATCHER}", "{events}", "steady"]
"""
    path = write_config(tmp_path, cfg)
    master, slave = pty.openpty()
    p = subprocess.Popen(["unshare", "-fpm", "--propagation", "private", "sh", "-c",
                          f"umount -l /proc && exec {BIN} run -c {path}"],
                         stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                         start_new_session=True)
    os.close(slave)
    try:
        # The chatty service gets through its 20 000 lines although nobody
        # reads the terminal: it is not throttled to the console's pace.
        wait_events(events, 1, "chatty", "done", timeout=20)
        t0 = time.monotonic()
        assert wait_http(port, "/livez", timeout=5) == "ok\n"
        assert time.monotonic() - t0 < 2
        # Now the console catches up: what was dropped is said.
        os.set_blocking(master, False)
        seen = b""
        deadline = time.monotonic() + 20
        while b"lines of output dropped: the console could not keep up" not in seen:
            assert time.monotonic() < deadline, seen[-2000:]
            try:
                seen += os.read(master, 65536)
            except BlockingIOError:
                time.sleep(0.01)  # polling the pty master, bounded
            except OSError:
                break
        assert b"lines of output dropped" in seen
        kids = wait_until(lambda: open(f"/proc/{p.pid}/task/{p.pid}/children").read().split(),
                          5, "the supervisor")
        os.kill(int(kids[0]), signal.SIGTERM)
        deadline = time.monotonic() + 15
        while p.poll() is None and time.monotonic() < deadline:
            try:
                os.read(master, 65536)
            except BlockingIOError:
                time.sleep(0.01)  # keep the console drained until it exits, bounded
            except OSError:
                break
        assert p.wait(5) == 0
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        os.close(master)


# --- under memory pressure ---------------------------------------------------

def memory_cgroup(tmp_path, limit):
    """A cgroup (v1 memory controller) with `limit` bytes, or None."""
    base = "/sys/fs/cgroup/memory"
    if not os.path.isdir(base):
        return None
    path = os.path.join(base, f"supervisor-test-{os.getpid()}-{tmp_path.name[-8:]}")
    try:
        os.mkdir(path)
        with open(os.path.join(path, "memory.limit_in_bytes"), "w") as f:
            f.write(str(limit))
        try:
            with open(os.path.join(path, "memory.memsw.limit_in_bytes"), "w") as f:
                f.write(str(limit))
        except OSError:
            pass  # no swap accounting: with no swap the first limit suffices
    except OSError:
        return None
    return path


def test_an_oom_killed_service_is_reported_and_restarted(tmp_path, events):
    cg = memory_cgroup(tmp_path, 64 * 1024 * 1024)
    if cg is None:
        pytest.skip("no writable cgroup v1 memory controller on this machine "
                    "(/sys/fs/cgroup/memory): cannot set a memory limit")
    port = free_port()
    cfg = f"""
[supervisor]
health_listen = "127.0.0.1:{port}"
[services.hog]
command = ["/usr/bin/python3", "-c", "import os, sys; os.system('{STAMP} {events} hog run'); b = bytearray(256 * 1024 * 1024); print(len(b))"]
restart = "on-failure"
restart_delay = "200ms"
critical = false
[services.steady]
command = ["{CATCHER}", "{events}", "steady"]
"""
    def enter_cgroup():
        with open(os.path.join(cg, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    try:
        full = ["unshare", "-fp", "--mount-proc", BIN, "run", "-c", write_config(tmp_path, cfg)]
        env = dict(os.environ, NO_COLOR="1")
        p = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                             preexec_fn=enter_cgroup, start_new_session=True)
        err = Stream(p.stderr)
        try:
            # The kernel's OOM killer ends the hog; the supervisor says so
            # plainly, survives, and restarts it.
            err.wait_for(r"hog: (exited with status 137|killed by signal SIGKILL)", 30)
            wait_events(events, 2, "hog", "run", timeout=30)
            assert wait_http(port, "/livez", timeout=5) == "ok\n"
            assert [e[1] for e in read_events(events) if e[0] == "steady"] == ["started"]
            kids = open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()
            os.kill(int(kids[0]), signal.SIGTERM)
            assert p.wait(15) == 0, err.text()
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    finally:
        try:
            os.rmdir(cg)
        except OSError:
            pass
