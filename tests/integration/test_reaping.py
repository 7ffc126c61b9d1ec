"""Reaping (docs/lifecycle.md, "Reaping"): every orphan the kernel hands the supervisor
is reaped, as PID 1 of a PID namespace and as a plain process (child
subreaper). Zombies are counted from here by scanning /proc: a process whose
/proc/PID/stat state is 'Z' and whose parent is the supervisor (Run.sv_pid,
the pid as seen from the host). A negative control shows the counter does
see zombies when the parent does not reap."""
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import (Run, free_port, helper, http_get, proc_table, read_events, wait_events, write_config,
                      zombies_of)

ORPHANAGE = helper("orphanage")
CATCHER = helper("catcher")
MODES = [pytest.param(False, id="plain"), pytest.param(True, id="pid1")]


def live_children_of(ppid, table):
    return sum(1 for state, pp in table.values() if pp == ppid and state != "Z")


class ZombieSampler:
    """Counts the zombies of `ppid` over and over in a thread; keeps the maximum."""

    def __init__(self, ppid):
        self.ppid = ppid
        self.max = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            n = zombies_of(self.ppid)
            self.samples += 1
            self.max = max(self.max, n)
            self._stop.wait(0.002)  # leave the storm some CPU: a scan costs ~10 ms

    def stop(self):
        self._stop.set()
        self._thread.join(10)
        return self.max


def wait_clean(ppid, live, timeout):
    """Bounded wait until `ppid` has no zombie and exactly `live` live children
    (its services). Returns the time it was first seen clean."""
    deadline = time.monotonic() + timeout
    while True:
        table = proc_table()
        z, kids = zombies_of(ppid, table), live_children_of(ppid, table)
        if z == 0 and kids == live:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout}s: {z} zombies, {kids} live children (want {live}) of {ppid}")
        time.sleep(0.01)  # polling /proc, bounded


def check_adopted(events, pid1, sv):
    """The storm's last orphan recorded who adopted it: the supervisor (PID 1
    in its namespace, or its own pid as a subreaper), not some other reaper."""
    evts = wait_events(events, 1, "storm", "adopted-by", timeout=10)
    ppid = int([e for e in evts if e[0] == "storm" and e[1] == "adopted-by"][0][2])
    assert ppid == (1 if pid1 else sv), (ppid, sv)


def stamp_s(evts, name, what):
    return [int(e[2]) / 1e9 for e in evts if e[0] == name and e[1] == what][0]


def storm_config(events, n, extra_args="", port=None):
    listen = f"127.0.0.1:{port}" if port else ""
    args = ", ".join(f'"{a}"' for a in [ORPHANAGE, events, "storm", str(n)] + extra_args.split() + ["--stay"])
    return f"""
[supervisor]
health_listen = "{listen}"
[services.storm]
command = [{args}]
stop_grace = "2s"
[services.catcher]
command = ["{CATCHER}", "{events}", "catcher"]
stop_grace = "2s"
"""


@pytest.mark.parametrize("pid1", MODES)
def test_1000_orphans_reaped_no_zombie_left(tmp_path, events, pid1):
    # The classic way (fork + fork, as helpers/orphans): each orphan is a live
    # process when it is re-parented, then exits.
    cfg = storm_config(events, 1000, "--fork")
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        sv = r.sv_pid
        sampler = ZombieSampler(sv)
        try:
            wait_events(events, 1, "storm", "done", timeout=60)
            check_adopted(events, pid1, sv)
            clean_at = wait_clean(sv, live=2, timeout=5)
        finally:
            max_zombies = sampler.stop()
        evts = read_events(events)
        begin, done = stamp_s(evts, "storm", "begin"), stamp_s(evts, "storm", "done")
        print(f"\n[{'pid1' if pid1 else 'plain'}] 1000 orphans: made in {done - begin:.2f}s, "
              f"no zombie {max(0.0, clean_at - done) * 1000:.0f}ms after the last one, "
              f"max zombies at once {max_zombies} over {sampler.samples} samples")
        # Reaped as they came, not piled up and collected at the end.
        assert max_zombies < 100, max_zombies
        assert sampler.samples >= 5, "the sampler must have watched the storm"
        t0 = r.signal(signal.SIGTERM)
        assert r.wait(10) == 0, r.err.text()
        assert time.monotonic() - t0 < 5
    assert "internal error" not in r.err.text()


def test_negative_control_the_counter_sees_unreaped_zombies(tmp_path):
    # `sleep` as PID 1 of a namespace never reaps: the 100 orphans stay zombies
    # of it, and the very function the tests above rely on must count them.
    orphans = helper("orphans")
    p = subprocess.Popen(["unshare", "-fp", "--mount-proc", "sh", "-c", f"{orphans} 100 --stay & exec sleep 30"],
                         start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        init = None
        while init is None:
            try:
                with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
                    kids = f.read().split()
                init = int(kids[0]) if kids else None
            except OSError:
                pass
            assert time.monotonic() < deadline, "unshare has no child"
            time.sleep(0.01)  # polling for the fork, bounded
        deadline = time.monotonic() + 30
        n = 0
        while n < 100:
            n = zombies_of(init)
            assert time.monotonic() < deadline, f"only {n} zombies seen"
            time.sleep(0.02)  # polling /proc, bounded
        assert n == 100, n
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(10)


def test_reaped_total_in_metrics(tmp_path, events):
    port = free_port()
    cfg = storm_config(events, 1000, port=port)
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        try:
            status, _ = http_get(port, "/livez", timeout=2)
        except OSError:
            status = None
        deadline = time.monotonic() + 3
        while status != 200 and time.monotonic() < deadline:
            time.sleep(0.05)  # the endpoint may still be coming up, bounded
            try:
                status, _ = http_get(port, "/livez", timeout=2)
            except OSError:
                status = None
        if status != 200:
            pytest.skip("the HTTP endpoint does not answer")
        wait_events(events, 1, "storm", "done", timeout=20)
        check_adopted(events, False, r.sv_pid)
        wait_clean(r.sv_pid, live=2, timeout=5)
        status, body = http_get(port, "/metrics")
        if status != 200 or "supervisor_reaped_total" not in body:
            pytest.skip(f"/metrics not available ({status})")
        line = [l for l in body.splitlines() if l.startswith("supervisor_reaped_total")][0]
        assert float(line.split()[-1]) >= 1000, line
        r.signal(signal.SIGTERM)
        assert r.wait(10) == 0


@pytest.mark.parametrize("pid1", MODES)
def test_zombie_storm_does_not_take_the_supervisor_down(tmp_path, events, pid1):
    # 5000 orphans, 100 at a time (clone(CLONE_VM): fast), while a signal is
    # forwarded; the supervisor keeps up and exits 0 on SIGTERM.
    cfg = storm_config(events, 5000, "--batch 100")
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        sv = r.sv_pid
        sampler = ZombieSampler(sv)
        try:
            wait_events(events, 1, "storm", "begin", timeout=10)
            wait_events(events, 1, "catcher", "started", timeout=10)
            t_usr1 = time.monotonic()  # before the kill: delivery may beat its return
            r.signal(signal.SIGUSR1)  # in the middle of the storm
            wait_events(events, 1, "catcher", "SIGUSR1", timeout=3)
            wait_events(events, 1, "storm", "done", timeout=40)
            check_adopted(events, pid1, sv)
            clean_at = wait_clean(sv, live=2, timeout=10)
        finally:
            max_zombies = sampler.stop()
        evts = read_events(events)
        begin, done = stamp_s(evts, "storm", "begin"), stamp_s(evts, "storm", "done")
        got_usr1 = stamp_s(evts, "catcher", "SIGUSR1")
        print(f"\n[{'pid1' if pid1 else 'plain'}] 5000 orphans: made in {done - begin:.2f}s, all reaped "
              f"{clean_at - begin:.2f}s after the first, no zombie {max(0.0, clean_at - done) * 1000:.0f}ms "
              f"after the last one; max zombies at once {max_zombies}; SIGUSR1 forwarded in "
              f"{(got_usr1 - t_usr1) * 1000:.0f}ms")
        assert got_usr1 - t_usr1 < 2.0
        assert clean_at - done < 5.0
        t0 = r.signal(signal.SIGTERM)
        assert r.wait(10) == 0, r.err.text()
        assert time.monotonic() - t0 < 5
    assert ("catcher", "SIGTERM") in [(e[0], e[1]) for e in read_events(events)]
    assert "internal error" not in r.err.text()
