"""Service output and the supervisor's own messages (docs/logging.md).

Services write recognizable lines (helpers/linegen.c: "NAME SEQ PAYLOAD SUM",
payload and sum derived from SEQ), so every line can be checked to have
arrived whole, exactly once and in order. Times are CLOCK_MONOTONIC stamps;
every wait is bounded."""
import array
import fcntl
import json
import os
import pty
import re
import select
import signal
import subprocess
import termios
import threading
import time

import pytest

from conftest import BIN, Run, helper, read_events, wait_events, write_config

STAMP = helper("stamp")
LINEGEN = helper("linegen")
MODES = [pytest.param(False, id="plain"), pytest.param(True, id="pid1")]
HEAD = '[supervisor]\nhealth_listen = ""\n'
SUPERVISOR_LINE = re.compile(r"^supervisor: ")


def gen_line(name, seq):
    """The line linegen writes for SEQ (without the newline)."""
    n = (seq * 31) % 120 + 8
    payload = "".join(chr(97 + (seq + i) % 26) for i in range(n))
    return f"{name} {seq} {payload} {sum(payload.encode()) % 65521:04x}"


def prefix(name, width):
    return name.ljust(width) + " | "


def check_sequence(lines, name, count):
    """`lines` are the payloads of one service: gen_line(name, 0..count-1) exactly."""
    assert len(lines) == count, f"{name}: {len(lines)} lines of {count}"
    for seq, line in enumerate(lines):
        if line != gen_line(name, seq):
            raise AssertionError(f"{name}: line {seq} is {line[:200]!r}, want {gen_line(name, seq)!r}")


def split_by_prefix(lines, names):
    """Sorts 'NAME   | text' lines by service; returns (dict name -> texts, other lines)."""
    width = max(len(n) for n in names)
    pre = {n: prefix(n, width) for n in names}
    out = {n: [] for n in names}
    other = []
    for line in lines:
        for n, p in pre.items():
            if line.startswith(p):
                out[n].append(line[len(p):])
                break
        else:
            other.append(line)
    return out, other


def lines_of(stream):
    with stream.cond:
        return [l for _, l in stream.lines]


def vmrss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1])
    raise AssertionError("no VmRSS")


# --- prefix format, streams ---

def test_prefix_format_padding_and_streams(tmp_path):
    cfg = HEAD + r"""
[services.a]
command = ["bash", "-c", "echo out-a; echo err-a >&2; printf '  spaced\tline \r\n'; echo; echo 'x | y'"]
critical = false
[services.longname]
command = ["bash", "-c", "echo out-long; echo err-long >&2"]
critical = false
[services.web-2]
command = ["bash", "-c", "echo err-web >&2"]
critical = false
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        assert r.wait() == 0
    out, err = lines_of(r.out), lines_of(r.err)
    # Width = len("longname") = 8: "a" + 7 spaces, then " | ".
    assert sorted(out) == sorted([
        "a        | out-a",
        "a        |   spaced\tline \r",  # bytes kept as written, CR included
        "a        | ",                  # an empty line is still a line
        "a        | x | y",
        "longname | out-long",
    ]), out
    assert "a        | err-a" in err
    assert "longname | err-long" in err
    assert "web-2    | err-web" in err
    # stdout gets only the services' stdout; stderr only their stderr and our messages.
    assert not [l for l in out if "err-" in l or SUPERVISOR_LINE.match(l)]
    assert not [l for l in err if "out-" in l]
    # Order within one service's stream is kept.
    a_out = [l for l in out if l.startswith("a ")]
    assert a_out == ["a        | out-a", "a        |   spaced\tline \r", "a        | ", "a        | x | y"]


def test_100k_lines_from_four_services_arrive_whole_and_in_order(tmp_path):
    per = 25_000
    # Different batch sizes: lines straddle write(2) calls everywhere, and a
    # 100 000-byte write is larger than the pipe buffer.
    names = {"w1": 4096, "writer2": 65536, "w3": 777, "w4long": 100_000}
    cfg = HEAD + "".join(f"""
[services.{n}]
command = ["{LINEGEN}", "{n}", "{per}", "-B", "{b}"]
critical = false
""" for n, b in names.items())
    t0 = time.monotonic()
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        code = r.wait(20)
    elapsed = time.monotonic() - t0
    assert code == 0
    by_name, other = split_by_prefix(lines_of(r.out), list(names))
    assert other == [], other[:5]
    for n in names:
        check_sequence(by_name[n], n, per)
    print(f"\n[logs] {4 * per} lines from 4 services in {elapsed:.2f}s "
          f"({4 * per / elapsed:,.0f} lines/s end to end)")
    assert elapsed < 20


# --- last line without newline ---

@pytest.mark.parametrize("pid1", MODES)
def test_partial_last_line_before_exit_arrives(tmp_path, pid1):
    cfg = HEAD + """
[services.p]
command = ["bash", "-c", "echo first; printf 'tail-out'; printf 'tail-err' >&2; exit 0"]
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        assert r.wait() == 0
    assert lines_of(r.out) == ["p | first", "p | tail-out"]
    assert "p | tail-err" in lines_of(r.err)


@pytest.mark.parametrize("pid1", MODES)
def test_partial_line_written_in_sigterm_handler_arrives(tmp_path, events, pid1):
    # The handler writes unterminated output while a child (sleep) still
    # holds the pipes; the service has a dependent, so it exits during the
    # ordered shutdown, after the dependent.
    cfg = HEAD + f"""
[services.db]
command = ["bash", "-c", "trap 'printf bye-out; printf bye-err >&2; exit 0' TERM; echo up; {STAMP} {events} db up; sleep infinity & wait"]
[services.api]
command = ["bash", "-c", "trap 'printf api-bye; exit 0' TERM; {STAMP} {events} api up; sleep infinity & wait"]
depends_on = ["db"]
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        wait_events(events, 2, what="up")
        r.signal(signal.SIGTERM)
        assert r.wait() == 0
    out = lines_of(r.out)
    assert "db  | bye-out" in out, out
    assert "api | api-bye" in out, out
    assert "db  | bye-err" in lines_of(r.err)


# --- a grandchild holding the pipe ---

@pytest.mark.parametrize("pid1", MODES)
def test_grandchild_holding_pipe_after_service_exit_does_not_block_shutdown(tmp_path, events, pid1):
    # The main process exits (critical: shutdown); a grandchild that ignores
    # SIGTERM keeps the stdout pipe open. The final sweep must not wait for
    # that pipe's EOF: SIGTERM, the largest stop_grace (1s), SIGKILL.
    cfg = HEAD + f"""
[services.svc]
command = ["bash", "-c", "echo before; (trap '' TERM; exec sleep 1000) & {STAMP} {events} child $!; echo after; {STAMP} {events} main exit"]
stop_grace = "1s"
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        evts = wait_events(events, 1, "main", "exit")
        code = r.wait(10)
        t_end = time.monotonic()
    t_exit = int([e for e in evts if e[0] == "main"][0][2]) / 1e9
    assert t_end - t_exit < 1.0 + 2.5, f"shutdown took {t_end - t_exit:.2f}s with grace 1s"
    assert code in (0, 1), code
    assert lines_of(r.out)[:2] == ["svc | before", "svc | after"]
    child = int([e for e in read_events(events) if e[0] == "child"][0][1])
    if not pid1:  # in a PID namespace the pid is not ours to look up
        assert not os.path.exists(f"/proc/{child}"), "the grandchild survived"


@pytest.mark.parametrize("pid1", MODES)
def test_grandchild_holding_pipe_on_sigterm_is_killed_after_grace(tmp_path, events, pid1):
    cfg = HEAD + f"""
[services.svc]
command = ["bash", "-c", "trap 'exit 0' TERM; echo before; (trap '' TERM; exec sleep 1000) & {STAMP} {events} child $!; wait"]
stop_grace = "1s"
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)], pid1=pid1) as r:
        wait_events(events, 1, "child")
        r.out.wait_for(r"^svc \| before$", 5)
        t0 = r.signal(signal.SIGTERM)
        code = r.wait(10)
        elapsed = time.monotonic() - t0
    assert 0.9 <= elapsed < 1.0 + 2.5, f"shutdown took {elapsed:.2f}s with grace 1s"
    assert code in (0, 1), code
    assert "svc | before" in lines_of(r.out)
    child = int(read_events(events)[0][1])
    if not pid1:
        assert not os.path.exists(f"/proc/{child}"), "the grandchild survived"


# --- back-pressure ---

def test_stalled_reader_blocks_writer_and_memory_stays_bounded(tmp_path):
    count = 300_000  # ~25 MB of output
    counter = tmp_path / "written"
    cfg = HEAD + f"""
[services.fast]
command = ["{LINEGEN}", "fast", "{count}", "-B", "65536", "-c", "{counter}"]
"""
    env = dict(os.environ, NO_COLOR="1")
    env.pop("NOTIFY_SOCKET", None)
    proc = subprocess.Popen([BIN, "run", "-c", write_config(tmp_path, cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    err_chunks = []
    err_thread = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
    err_thread.start()
    try:
        def written():
            try:
                return int(counter.read_text() or 0)
            except (FileNotFoundError, ValueError):
                return 0

        deadline = time.monotonic() + 5
        while written() == 0:
            assert time.monotonic() < deadline, "the writer never wrote"
            time.sleep(0.02)  # waiting for the service to start, bounded
        # Nobody reads our end: sample the writer's progress and our RSS.
        samples = []
        t_start = time.monotonic()
        while time.monotonic() - t_start < 2.5:
            samples.append((time.monotonic() - t_start, written(), vmrss_kib(proc.pid)))
            time.sleep(0.1)  # sampling period
        assert proc.poll() is None
        max_rss = max(s[2] for s in samples)
        stalled = [s[1] for s in samples if s[0] >= 1.5]
        print(f"\n[logs] stalled reader: writer blocked at {stalled[-1]:,} bytes of ~{count * 83:,}; "
              f"supervisor VmRSS max {max_rss / 1024:.1f} MiB over {samples[-1][0]:.1f}s")
        assert max_rss < 32 * 1024, f"VmRSS {max_rss} KiB"
        assert len(set(stalled)) == 1, f"the writer kept writing with nobody reading: {samples}"
        assert stalled[-1] < 4 * 1024 * 1024, f"{stalled[-1]} bytes accepted with nobody reading"
        # Now read everything: nothing was dropped.
        data = proc.stdout.read()
        code = proc.wait(20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    err_thread.join(5)
    assert code == 0, err_chunks
    lines = data.decode().split("\n")
    assert lines[-1] == ""
    check_sequence([l[len("fast | "):] if l.startswith("fast | ") else l for l in lines[:-1]], "fast", count)


# --- inherit and null ---

def test_inherit_passes_bytes_through_and_null_discards(tmp_path, events):
    fd_file = tmp_path / "fds"
    cfg = HEAD + f"""
[services.raw]
command = ["bash", "-c", "echo raw-out-line; echo raw-err-line >&2; printf 'raw\\\\x01bin\\\\n'; echo raw $(readlink /proc/$$/fd/1) $(readlink /proc/$$/fd/2) >> {fd_file}"]
log = "inherit"
critical = false
[services.quiet]
command = ["bash", "-c", "echo null-out-line; echo null-err-line >&2; head -c 1000000 /dev/zero; echo quiet $(readlink /proc/$$/fd/1) $(readlink /proc/$$/fd/2) >> {fd_file}"]
log = "null"
critical = false
[services.prefixed]
command = ["bash", "-c", "echo pfx-line"]
critical = false
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        sv_out = os.readlink(f"/proc/{r.proc.pid}/fd/1")
        sv_err = os.readlink(f"/proc/{r.proc.pid}/fd/2")
        assert r.wait(10) == 0, r.err.text()
    out, err = lines_of(r.out), lines_of(r.err)
    assert "raw-out-line" in out and "raw\x01bin" in out, out
    assert "raw-err-line" in err, err
    assert "prefixed | pfx-line" in out
    fds = {l.split()[0]: l.split()[1:] for l in fd_file.read_text().splitlines()}
    # inherit: the very pipes the supervisor writes to, no copy in between.
    assert fds["raw"] == [sv_out, sv_err], (fds, sv_out, sv_err)
    # null: /dev/null, and nothing of it shows anywhere.
    assert fds["quiet"] == ["/dev/null", "/dev/null"]
    both = r.out.text() + r.err.text()
    assert "null-out-line" not in both and "null-err-line" not in both and "\0" not in both


# --- our own messages never split a service line ---

def test_own_messages_never_split_service_lines(tmp_path):
    count = 40_000
    # chatty writes its lines to stderr in 7-byte writes (every line is cut
    # in several reads), while flap restarts every few ms and makes the
    # supervisor log started / exited / restarting on the same stderr.
    cfg = HEAD + f"""
[services.chatty]
command = ["{LINEGEN}", "chatty", "{count}", "-e", "-B", "7"]
[services.flap]
command = ["bash", "-c", "echo flap-out; echo flap-err >&2; exit 1"]
restart = "always"
restart_delay = "10ms"
restart_delay_max = "20ms"
critical = false
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        assert r.wait(30) == 0
    err = lines_of(r.err)
    chatty, own, first, last = [], 0, None, None
    for i, line in enumerate(err):
        if line.startswith("chatty | "):
            chatty.append(line[len("chatty | "):])
            first = i if first is None else first
            last = i
        elif line in ("flap   | flap-err",):
            pass
        else:
            assert SUPERVISOR_LINE.match(line), f"stderr line {i} is neither ours nor a whole service line: {line!r}"
    check_sequence(chatty, "chatty", count)
    own = sum(1 for line in err[first:last] if SUPERVISOR_LINE.match(line))
    print(f"\n[logs] {own} supervisor messages interleaved with {count} chatty lines")
    assert own >= 10, "the restarts did not happen while chatty was writing: the test proved nothing"
    assert set(lines_of(r.out)) == {"flap   | flap-out"}


def test_stdout_and_stderr_on_one_pipe_share_line_boundaries(tmp_path):
    # 2>&1: one queue for both streams, so lines never mix there either.
    count = 20_000
    cfg = HEAD + f"""
[services.both]
command = ["{LINEGEN}", "both", "{count}", "-b"]
[services.other]
command = ["{LINEGEN}", "other", "{count}", "-b"]
critical = false
"""
    proc = subprocess.run([BIN, "run", "-c", write_config(tmp_path, cfg)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=30,
                          env=dict(os.environ, NO_COLOR="1"))
    lines = proc.stdout.decode().split("\n")
    assert lines[-1] == ""
    by_name, other = split_by_prefix(lines[:-1], ["both", "other"])
    assert all(SUPERVISOR_LINE.match(l) for l in other), [l for l in other if not SUPERVISOR_LINE.match(l)][:5]
    # The two streams are two pipes read independently: order holds within
    # each (even SEQ on stdout, odd on stderr), not across them.
    got = by_name["both"]
    assert len(got) == count
    assert [l for l in got if int(l.split()[1]) % 2 == 0] == [gen_line("both", i) for i in range(0, count, 2)]
    assert [l for l in got if int(l.split()[1]) % 2 == 1] == [gen_line("both", i) for i in range(1, count, 2)]
    # other is critical = false and may be cut short when both ends; what
    # arrived is whole and in order per stream.
    got = by_name["other"]
    for parity in (0, 1):
        mine = [l for l in got if int(l.split()[1]) % 2 == parity]
        assert mine == [gen_line("other", parity + 2 * i) for i in range(len(mine))]


# --- JSON messages ---

@pytest.mark.parametrize("how", ["flag", "config"])
def test_json_log_format(tmp_path, events, how):
    cfg = ('[supervisor]\nhealth_listen = ""\n' + ('log_format = "json"\n' if how == "config" else "") + f"""
[services.app]
command = ["bash", "-c", "echo app-out; echo 'app-err \\"quoted\\"' >&2; {STAMP} {events} app up; sleep infinity & wait"]
[services.job]
command = ["bash", "-c", "echo job-out; exit 3"]
critical = false
""")
    args = ["run", "-c", write_config(tmp_path, cfg)] + (["--log-format", "json"] if how == "flag" else [])
    with Run(args) as r:
        wait_events(events, 1, "app", "up")
        r.err.wait_for(r'"event":\s*"exited"', 5)
        r.signal(signal.SIGTERM)
        assert r.wait() == 0
    assert sorted(lines_of(r.out)) == ["app | app-out", "job | job-out"]
    objs = []
    for line in lines_of(r.err):
        if line.startswith("app | "):
            assert line == 'app | app-err "quoted"'
            continue
        o = json.loads(line)  # every other stderr line is one JSON object
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", o["time"]), o
        assert o["level"] in ("debug", "info", "warn", "error"), o
        assert isinstance(o["event"], str) and o["event"], o
        assert isinstance(o["message"], str) and o["message"], o
        objs.append(o)
    started = [o for o in objs if o["event"] == "started"]
    assert {o.get("service") for o in started} == {"app", "job"}
    exited = [o for o in objs if o["event"] == "exited" and o.get("service") == "job"]
    # docs/logging.md shows the status as "code"; the implementation calls
    # it "status". Either way it is an unquoted number.
    assert exited and exited[0].get("code", exited[0].get("status")) == 3, exited
    whole = [o for o in objs if o["event"] == "shutdown"]
    assert whole and "service" not in whole[0], objs
    assert not any(SUPERVISOR_LINE.match(l) for l in lines_of(r.err))


# --- colour ---

def run_on_pty(tmp_path, cfg, env_update):
    """Runs the supervisor with stdout and stderr on one terminal; returns all its bytes."""
    master, slave = pty.openpty()
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.pop("NOTIFY_SOCKET", None)
    env.update(env_update)
    proc = subprocess.Popen([BIN, "run", "-c", write_config(tmp_path, cfg)], stdout=slave, stderr=slave,
                            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    os.close(slave)
    data = b""
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            data += chunk
        assert proc.wait(5) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        os.close(master)
    return data.replace(b"\r\n", b"\n")


COLOUR_CFG = HEAD + """
[services.a]
command = ["bash", "-c", "echo a-out; echo a-err >&2"]
critical = false
[services.bb]
command = ["bash", "-c", "echo bb-out"]
critical = false
"""


def test_colour_on_a_terminal_only_without_no_color(tmp_path):
    coloured = run_on_pty(tmp_path, COLOUR_CFG, {})
    assert b"\x1b[36ma\x1b[0m  | a-out\n" in coloured, coloured  # first service cyan, pad after reset
    assert b"\x1b[36ma\x1b[0m  | a-err\n" in coloured, coloured
    assert b"\x1b[33mbb\x1b[0m | bb-out\n" in coloured, coloured  # second yellow
    plain = run_on_pty(tmp_path, COLOUR_CFG, {"NO_COLOR": "1"})
    assert b"\x1b" not in plain, plain
    assert b"a  | a-out\n" in plain and b"bb | bb-out\n" in plain


@pytest.mark.parametrize("no_color", ["1", ""])
def test_no_escape_codes_on_a_pipe(tmp_path, no_color):
    # A pipe is not a terminal: never coloured, NO_COLOR set or not
    # (an empty NO_COLOR does not count as set).
    with Run(["run", "-c", write_config(tmp_path, COLOUR_CFG)], env={"NO_COLOR": no_color}) as r:
        assert r.wait() == 0
    assert "a  | a-out" in lines_of(r.out)
    assert "\x1b" not in r.out.text() + r.err.text()


# --- long lines, a reader that goes away, a reader that never reads ---

def test_long_lines_are_cut_in_16k_pieces(tmp_path):
    gen = tmp_path / "long.py"
    gen.write_text("import sys\n"
                   "sys.stdout.write('a' * 40000 + '\\n' + 'b' * 16384 + '\\n' + 'after\\n' + 'c' * 16385)\n")
    cfg = HEAD + f"""
[services.long]
command = ["/usr/bin/python3", "{gen}"]
"""
    with Run(["run", "-c", write_config(tmp_path, cfg)]) as r:
        assert r.wait() == 0
    got = [l[len("long | "):] for l in lines_of(r.out)]
    assert [len(l) for l in got] == [16384, 16384, 40000 - 2 * 16384, 16384, 5, 16384, 1], [len(l) for l in got]
    assert got[:3] == ["a" * 16384, "a" * 16384, "a" * 7232]
    assert got[3:] == ["b" * 16384, "after", "c" * 16384, "c"]


def test_reader_gone_does_not_hang_services_or_supervisor(tmp_path):
    # Our stdout's reader closes at once: EPIPE, output dropped, the service
    # is still drained and the supervisor neither dies of SIGPIPE nor hangs.
    cfg = HEAD + f"""
[services.w]
command = ["{LINEGEN}", "w", "200000", "-B", "65536"]
"""
    r, w = os.pipe()
    os.close(r)
    t0 = time.monotonic()
    try:
        proc = subprocess.run([BIN, "run", "-c", write_config(tmp_path, cfg)], stdout=w, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, timeout=15, env=dict(os.environ, NO_COLOR="1"))
    finally:
        os.close(w)
    assert proc.returncode == 0, proc.stderr.decode()
    assert time.monotonic() - t0 < 10
    assert "w: exited with status 0" in proc.stderr.decode()


def test_stalled_reader_does_not_hold_shutdown_forever(tmp_path):
    # docs/logging.md: a reader that accepts nothing for 5 s is given up on.
    cfg = HEAD + f"""
[services.w]
command = ["{LINEGEN}", "w", "0", "-B", "65536"]
stop_grace = "1s"
"""
    env = dict(os.environ, NO_COLOR="1")
    proc = subprocess.Popen([BIN, "run", "-c", write_config(tmp_path, cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        queued = 0
        while queued < 32768:  # the writer fills our pipe: nobody reads it
            assert time.monotonic() < deadline, f"only {queued} bytes in our pipe"
            time.sleep(0.02)  # polling the pipe's fill level, bounded
            buf = array.array("i", [0])
            fcntl.ioctl(proc.stdout.fileno(), termios.FIONREAD, buf)
            queued = buf[0]
        os.kill(proc.pid, signal.SIGTERM)
        t0 = time.monotonic()
        code = proc.wait(15)
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    print(f"\n[logs] stalled reader at shutdown: exited after {elapsed:.2f}s")
    assert code == 0
    assert elapsed < 5 + 1 + 2.5, elapsed



def run_inherit_and_prefix_under_stalled_reader(tmp_path):
    """An inherit service writing 3 MB in 4000-byte write(2)s (each one
    atomic on a pipe: <= PIPE_BUF) and a prefix service, both on our stdout,
    which nobody reads for a while. Returns (returncode, stdout, stderr)."""
    cfg = HEAD + f"""
[services.raw]
command = ["/usr/bin/python3", "-c", "import os, sys\\nfor _ in range(750): os.write(1, b'Q' * 4000)\\nsys.stderr.write('raw-status 0\\\\n')"]
log = "inherit"
[services.pfx]
command = ["{LINEGEN}", "pfx", "20000"]
critical = false
"""
    env = dict(os.environ, NO_COLOR="1")
    proc = subprocess.Popen([BIN, "run", "-c", write_config(tmp_path, cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        queued = 0
        while queued < 32768:  # our pipe fills up: both writers block
            assert time.monotonic() < deadline, f"only {queued} bytes in our pipe"
            time.sleep(0.02)  # polling the pipe's fill level, bounded
            buf = array.array("i", [0])
            fcntl.ioctl(proc.stdout.fileno(), termios.FIONREAD, buf)
            queued = buf[0]
        time.sleep(0.3)  # stay stalled a while (scenario, not an assertion)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    return proc.returncode, out, err.decode()


def test_inherit_writer_keeps_blocking_writes_under_a_stalled_reader(tmp_path):
    # The supervisor writes its share through a private non-blocking handle;
    # an inherit service on the same pipe must keep ordinary blocking writes
    # (no EAGAIN when the pipe is full) and lose nothing.
    code, out, err = run_inherit_and_prefix_under_stalled_reader(tmp_path)
    assert code == 0, err
    assert "raw-status 0" in err, err  # python would have raised on EAGAIN
    assert out.count(b"Q") == 3_000_000
    assert out.count(b"pfx | ") > 0


def test_inherit_writes_up_to_pipe_buf_land_only_between_prefixed_lines(tmp_path):
    # docs/logging.md: an inherit service's writes "can land between two
    # prefixed lines, or, for writes larger than the pipe buffer, inside one".
    # These are 4000-byte writes: they must never land inside a line.
    code, out, err = run_inherit_and_prefix_under_stalled_reader(tmp_path)
    assert code == 0, err
    split = []
    pfx_lines = [line for line in out.split(b"\n") if b"pfx | " in line]
    expected = 1  # the number of the next whole line
    for n, line in enumerate(pfx_lines):
        i = line.find(b"pfx | ")
        m = re.fullmatch(rb"pfx \| (pfx (\d+) .*)", line[i:])
        whole = m and m.group(1).decode() == gen_line("pfx", int(m.group(2)))
        if whole:
            expected = int(m.group(2)) + 1
        # pfx is stopped when the critical raw service ends: its very last
        # line may be the partial line it was writing (cut anywhere, even
        # inside its number), delivered as it is.
        last_partial = (n == len(pfx_lines) - 1 and i == 0 and
                        gen_line("pfx", expected).startswith(line[len(b"pfx | "):].decode()))
        if not whole and not last_partial:
            split.append(line[:120])
    assert split == [], f"{len(split)} prefixed lines cut by inherit output, e.g. {split[:2]}"


@pytest.mark.parametrize("pid1", MODES)
def test_an_empty_first_line_is_relayed_and_kept(tmp_path, pid1):
    """A service whose very first output is an empty line: relayed, and kept
    for `supervisor logs` (the in-memory ring once divided by its zero
    capacity here and took the supervisor down with SIGFPE)."""
    sock = tmp_path / "ctl.sock"
    cfg = (f'[supervisor]\nhealth_listen = ""\ncontrol_socket = "{sock}"\n'
           '[services.blank]\ncommand = "echo; echo after; exec sleep 1000"\n')
    path = write_config(tmp_path, cfg)
    with Run(["run", "-c", path], pid1=pid1) as r:
        r.out.wait_for(r"^blank \| after$", 10)
        res = subprocess.run([BIN, "logs", "--socket", str(sock), "blank"], capture_output=True,
                             text=True, timeout=10)
        assert res.returncode == 0, res.stderr
        assert res.stdout.splitlines()[-2:] == ["blank | ", "blank | after"], res.stdout
        r.signal(signal.SIGTERM)
        assert r.wait(15) == 0, r.err.text()
    assert "blank | " in r.out.text().splitlines()


def voluntary_switches(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches in /proc/%d/status" % pid)


def test_a_service_exit_wakes_the_supervisor_once_not_once_per_pipe(tmp_path):
    # A process closes its descriptors before the kernel reports its exit,
    # and each close of a pipe's last write end woke the supervisor: three
    # wake-ups per exit (stdout, stderr, SIGCHLD). It keeps its own copy of
    # the write ends until it reaps the leader: one. An idle supervisor has
    # nothing else that wakes it, so its voluntary context switches count
    # its wake-ups. The services close their output 50 ms before they exit,
    # so that no wake-up could serve both.
    n = 6
    body = HEAD + 'control_socket = ""\n[services.stay]\ncommand = ["sleep", "1000"]\n'
    for i in range(n):
        body += (f'[services.s{i}]\ncommand = "echo hi from s{i}; echo to stderr >&2; '
                 f'sleep {1.0 + 0.15 * i:.2f}; exec >&- 2>&-; sleep 0.05"\n'
                 "critical = false\n")
    with Run(["run", "-c", write_config(tmp_path, body)]) as r:
        for i in range(n):
            r.out.wait_for(rf"s{i} +\| hi from s{i}$", 10)
            r.err.wait_for(rf"s{i} +\| to stderr$", 10)
        before = voluntary_switches(r.sv_pid)
        for i in range(n):
            r.err.wait_for(rf"s{i}: exited with status 0", 10)
        after = voluntary_switches(r.sv_pid)
        assert after - before <= n + 2, (before, after, r.err.text())
        r.signal(signal.SIGTERM)
        assert r.wait(15) == 0, r.err.text()


def pipe_fds(pid):
    """The supervisor's pipe descriptors other than its stdout and stderr
    (and their copies), with what they point at."""
    own = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in (1, 2)}
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        if target.startswith("pipe:") and target not in own:
            out[int(fd)] = target
    return out


def test_no_pipe_is_left_open_after_services_exit_or_fail_to_exec(tmp_path):
    # The supervisor holds copies of its services' pipes' write ends: each
    # goes at the reap, an exec that fails and a restart included. What is
    # left is the running service's two pipes, a read and a write end each.
    body = (HEAD + 'control_socket = ""\n[services.stay]\ncommand = ["sleep", "1000"]\n'
            '[services.quick]\ncommand = ["true"]\ncritical = false\n'
            '[services.missing]\ncommand = ["/nonexistent/program"]\ncritical = false\n'
            '[services.again]\ncommand = ["sh", "-c", "echo run; exit 3"]\ncritical = false\n'
            'restart = "on-failure"\nmax_restarts = 2\nrestart_delay = "10ms"\n')
    with Run(["run", "-c", write_config(tmp_path, body)]) as r:
        r.err.wait_for(r"quick: exited with status 0", 10)
        r.err.wait_for(r"missing: .*No such file or directory", 10)
        r.err.wait_for(r"again: not restarting", 10)
        pipes = pipe_fds(r.sv_pid)
        assert len(pipes) == 4 and len(set(pipes.values())) == 2, (pipes, r.err.text())
        r.signal(signal.SIGTERM)
        assert r.wait(15) == 0, r.err.text()


NOTIFY_READY = """import os, socket
p = os.environ["NOTIFY_SOCKET"]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1", "\\0" + p[1:] if p.startswith("@") else p)
"""


def test_lines_written_before_ready_come_before_the_ready_line(tmp_path):
    # Within one wake-up libev runs the callbacks last in, first out: a
    # READY=1 sent after a line was handled before the line was read. The
    # supervisor reads the service's pipes before it reports it ready. It is
    # stopped while the service writes and notifies, so that both wait for
    # the same wake-up.
    go, done = tmp_path / "go", tmp_path / "done"
    (tmp_path / "notify.py").write_text(NOTIFY_READY)
    (tmp_path / "db.sh").write_text(
        f"while [ ! -e {go} ]; do sleep 0.01; done\n"
        f"echo before ready\npython3 {tmp_path / 'notify.py'}\ntouch {done}\nexec sleep 1000\n")
    cfg = HEAD + f"""control_socket = ""
[services.db]
command = ["bash", "{tmp_path / 'db.sh'}"]
[services.db.ready]
notify = true
start_timeout = "30s"
"""
    proc = subprocess.Popen([BIN, "run", "-c", write_config(tmp_path, cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=dict(os.environ, NO_COLOR="1"), start_new_session=True)
    out = b""

    def read_until(text):
        nonlocal out
        deadline = time.monotonic() + 10
        while text not in out:
            assert time.monotonic() < deadline, out.decode()
            if select.select([proc.stdout], [], [], 0.5)[0]:
                out += os.read(proc.stdout.fileno(), 65536)

    try:
        read_until(b"db: started")
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            go.touch()
            deadline = time.monotonic() + 10
            while not done.exists():
                assert time.monotonic() < deadline, "the service never notified"
                time.sleep(0.01)  # polling a file the service creates, bounded
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        read_until(b"db: ready")
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=15)
        lines = (out + rest).decode().split("\n")
        line = lines.index("db | before ready")
        ready = lines.index("supervisor: db: ready")
        assert line < ready, lines
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
