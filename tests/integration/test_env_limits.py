"""env_file, umask and limits, as a user sees them (docs/configuration.md).

Services write what they got (their environment as JSON, their umask, their
/proc/self/limits) to files in the test's directory; the tests read those
files once the supervisor has exited. The supervisor's own umask and limits
are set for it in a `preexec_fn`, as a container runtime would. Every run is
bounded by a timeout.
"""
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import BIN, Run, write_config

MODES = [pytest.param(False, id="plain"), pytest.param(True, id="pid1")]
PY = sys.executable
DUMP_ENV = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"


def sv(args, pid1=False, preexec=None, wrap=(), cwd=None, env=None, timeout=20):
    """Runs the supervisor to its end; returns (exit code, stdout, stderr)."""
    cmd = list(wrap) + (["unshare", "-fp", "--mount-proc"] if pid1 else []) + [BIN] + args
    full_env = dict(os.environ)
    full_env.pop("NOTIFY_SOCKET", None)
    full_env["NO_COLOR"] = "1"
    full_env.update(env or {})
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         text=True, cwd=cwd, env=full_env, preexec_fn=preexec, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise AssertionError(f"supervisor did not exit within {timeout}s; stderr:\n{err}")
    return p.returncode, out, err


def dump_env(path):
    return f'["{PY}", "-c", "{DUMP_ENV}", "{path}"]'


def load(path):
    with open(path) as f:
        return json.load(f)


# ---- env_file ---------------------------------------------------------------

@pytest.mark.parametrize("pid1", MODES)
def test_env_file_precedence_lowest_first(tmp_path, pid1):
    """The supervisor's environment < [supervisor] env_file < the service's
    env_file in list order < the service's env."""
    (tmp_path / "common.env").write_text("V2=common\nV3=common\nV4=common\nV5=common\nC_ONLY=common\n")
    (tmp_path / "first.env").write_text("V3=first\nV4=first\nV5=first\n")
    (tmp_path / "second.env").write_text("V4=second\nV5=second\n")
    cfg = f"""
[supervisor]
health_listen = ""
control_socket = ""
env_file = ["{tmp_path}/common.env"]
[services.full]
type = "oneshot"
command = {dump_env(tmp_path / "full.json")}
env_file = ["{tmp_path}/first.env", "{tmp_path}/second.env"]
env = {{ V5 = "table" }}
[services.reversed]
type = "oneshot"
command = {dump_env(tmp_path / "reversed.json")}
env_file = ["{tmp_path}/second.env", "{tmp_path}/first.env"]
[services.plain]
type = "oneshot"
command = {dump_env(tmp_path / "plain.json")}
"""
    path = write_config(tmp_path, cfg)
    outer = {f"V{i}": "env" for i in range(1, 6)}
    code, _, err = sv(["run", "-c", path], pid1=pid1, env=outer)
    assert code == 0, err
    full, rev, plain = (load(tmp_path / f"{n}.json") for n in ("full", "reversed", "plain"))
    got = {k: full[k] for k in ("V1", "V2", "V3", "V4", "V5", "C_ONLY")}
    assert got == {"V1": "env", "V2": "common", "V3": "first", "V4": "second", "V5": "table", "C_ONLY": "common"}
    # The list order decides between a service's own files: the later one wins.
    assert (rev["V3"], rev["V4"], rev["V5"]) == ("first", "first", "first"), rev
    # [supervisor] env_file reaches every service, also one without its own.
    assert {k: plain[k] for k in ("V1", "V2", "V5", "C_ONLY")} == {
        "V1": "env", "V2": "common", "V5": "common", "C_ONLY": "common"}
    assert "PATH" in plain  # the rest of the supervisor's environment is still there


@pytest.mark.parametrize("pid1", MODES)
def test_the_main_command_gets_the_supervisor_env_file(tmp_path, pid1):
    """`run -c FILE -- COMMAND`: COMMAND, the container's CMD, sees what
    [supervisor] env_file sets, as `docker run --env-file` gives it."""
    (tmp_path / "common.env").write_text("SHARED=from-file\n")
    (tmp_path / "svc.env").write_text("SVC_ONLY=yes\n")
    cfg = """
[supervisor]
health_listen = ""
control_socket = ""
env_file = ["common.env"]
[services.db]
command = ["sleep", "30"]
env_file = ["svc.env"]
"""
    path = write_config(tmp_path, cfg)
    out = tmp_path / "main.json"
    code, _, err = sv(["run", "-c", path, "--", PY, "-c", DUMP_ENV, str(out)], pid1=pid1)
    assert code == 0, err
    got = load(out)
    assert got.get("SHARED") == "from-file", sorted(got)
    assert "SVC_ONLY" not in got  # a service's own env_file is its own


def test_env_file_format(tmp_path):
    """docker/compose .env: KEY=VALUE, comments, blank lines, `export `,
    single quotes literal, double quotes with escapes; CRLF line ends."""
    text = (
        "# a comment line\n"
        "   # an indented comment\n"
        "\n"
        "   \n"
        "PLAIN=value\n"
        "SPACED = spaced value   \n"
        "export EXPORTED=yes\n"
        "TRAILING=abc # a comment\n"
        "HASH_IN=abc#def\n"
        "EQUALS=a=b=c\n"
        "EMPTY=\n"
        "EMPTY_SQ=''\n"
        "EMPTY_DQ=\"\"\n"
        "SINGLE='literal $HOME \\n \"x\" # not a comment'\n"
        "DOUBLE=\"line1\\nline2 \\\"quoted\\\" back\\\\slash\"\n"
        "DQ_COMMENT=\"value\" # comment after the quotes\n"
        "SQ_SPACES='  padded  '\n"
        "DOLLAR=$HOME/x\n"
        "URL=postgres://u:p@h:5432/db?x=1&y=2\n"
        "DUP=first\n"
        "DUP=second\n"
        "CRLF=crlf\r\n"
        "LAST=no newline at the end"
    )
    (tmp_path / "app.env").write_text(text, newline="")
    cfg = f"""
[supervisor]
health_listen = ""
control_socket = ""
[services.app]
type = "oneshot"
env_file = ["app.env"]
command = {dump_env(tmp_path / "app.json")}
"""
    path = write_config(tmp_path, cfg)
    code, _, err = sv(["run", "-c", path])
    assert code == 0, err
    got = load(tmp_path / "app.json")
    want = {
        "PLAIN": "value",
        "SPACED": "spaced value",
        "EXPORTED": "yes",
        "TRAILING": "abc",
        "HASH_IN": "abc#def",
        "EQUALS": "a=b=c",
        "EMPTY": "",
        "EMPTY_SQ": "",
        "EMPTY_DQ": "",
        "SINGLE": 'literal $HOME \\n "x" # not a comment',
        "DOUBLE": 'line1\nline2 "quoted" back\\slash',
        "DQ_COMMENT": "value",
        "SQ_SPACES": "  padded  ",
        "DOLLAR": "$HOME/x",
        "URL": "postgres://u:p@h:5432/db?x=1&y=2",
        "DUP": "second",
        "CRLF": "crlf",
        "LAST": "no newline at the end",
    }
    assert {k: got.get(k) for k in want} == want
    assert "export" not in got and "EXPORTED" in got


@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_relative_env_file_paths_are_taken_from_the_config_files_folder(tmp_path, how):
    conf = tmp_path / "conf"
    (conf / "sub").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "sub").mkdir(parents=True)
    (conf / "common.env").write_text("FROM_COMMON=conf\n")
    (conf / "sub" / "svc.env").write_text("FROM_SVC=conf/sub\n")
    (tmp_path / "shared.env").write_text("FROM_PARENT=top\n")
    # Decoys in the working directory: they must not be read.
    (elsewhere / "common.env").write_text("FROM_COMMON=cwd\n")
    (elsewhere / "sub" / "svc.env").write_text("FROM_SVC=cwd\n")
    cfg = f"""
[supervisor]
health_listen = ""
control_socket = ""
env_file = ["common.env"]
[services.app]
type = "oneshot"
env_file = ["sub/svc.env", "../shared.env"]
command = {dump_env(tmp_path / "app.json")}
"""
    path = write_config(conf, cfg)
    if how == "absolute":
        code, _, err = sv(["run", "-c", path], cwd=str(elsewhere))
    else:
        code, _, err = sv(["run", "-c", "conf/supervisor.toml"], cwd=str(tmp_path))
    assert code == 0, err
    got = load(tmp_path / "app.json")
    assert (got.get("FROM_COMMON"), got.get("FROM_SVC"), got.get("FROM_PARENT")) == ("conf", "conf/sub", "top")
    # check reads them from the same place.
    code = subprocess.run([BIN, "check", "-c", path], cwd=str(elsewhere), capture_output=True, timeout=20).returncode
    assert code == 0


BAD_ENV_FILES = [
    # (id, where the env_file entry goes, the file's text or None for missing, expected message regex)
    ("missing-service", "service", None,
     r"supervisor\.toml:9:\d+: env_file: cannot read \S*nope\.env: No such file or directory"),
    ("missing-supervisor", "supervisor", None,
     r"supervisor\.toml:5:\d+: env_file: cannot read \S*nope\.env: No such file or directory"),
    ("no-equals", "service", "A=1\n\nthis line is wrong\n", r"bad\.env:3:\d+: "),
    ("unterminated-double", "service", 'A=1\nB="open\n', r"bad\.env:2:\d+: .*double quote"),
    ("unterminated-single", "supervisor", "X='open\n", r"bad\.env:1:\d+: .*single quote"),
    ("text-after-quotes", "service", 'OK=1\nQ="a" b\n', r"bad\.env:2:\d+: "),
    ("empty-key", "service", "=value\n", r"bad\.env:1:\d+: "),
]


def bad_env_config(tmp_path, where, text):
    name = "nope.env" if text is None else "bad.env"
    if text is not None:
        (tmp_path / name).write_text(text)
    marker = tmp_path / "started"
    sup_line = f'env_file = ["{name}"]' if where == "supervisor" else ""
    svc_line = f'env_file = ["{name}"]' if where == "service" else ""
    cfg = f"""
[supervisor]
health_listen = ""
control_socket = ""
{sup_line}
[services.app]
type = "oneshot"
command = "touch {marker}"
{svc_line}
"""
    return write_config(tmp_path, cfg), marker


@pytest.mark.parametrize("where,text,pattern", [p[1:] for p in BAD_ENV_FILES], ids=[p[0] for p in BAD_ENV_FILES])
def test_a_missing_env_file_or_a_bad_line_is_a_configuration_error(tmp_path, where, text, pattern):
    path, marker = bad_env_config(tmp_path, where, text)
    for args in (["check", "-c", path], ["run", "-c", path], ["run", "-c", path, "--", "touch", str(marker)]):
        code, out, err = sv(args)
        assert code == 2, (args, code, err)
        assert re.search(pattern, err), (args, err)
        assert len(err.strip().splitlines()) == 1, err  # one line, as compilers print
        assert not marker.exists(), args  # nothing was started


def test_a_bad_env_file_as_pid1_of_a_container_exits_2_at_once(tmp_path):
    """A container's PID 1 reports the error and exits (the machine's init
    would power off instead)."""
    path, marker = bad_env_config(tmp_path, "service", "nonsense\n")
    t0 = time.monotonic()
    code, _, err = sv(["run", "-c", path], pid1=True)
    assert code == 2, err
    assert re.search(r"bad\.env:1:\d+: ", err), err
    assert time.monotonic() - t0 < 5, "no power-off pause in a container"
    assert not marker.exists()


def test_an_env_file_edit_applies_on_reload_and_a_bad_one_changes_nothing(tmp_path):
    (tmp_path / "app.env").write_text("GREETING=hello\n")
    sock = tmp_path / "control.sock"
    cfg = f"""
[supervisor]
health_listen = ""
control_socket = "{sock}"
[services.app]
env_file = ["app.env"]
command = ["sh", "-c", "echo \\"$GREETING\\" >> {tmp_path}/greetings; exec sleep 30"]
[services.other]
command = ["sleep", "30"]
"""
    path = write_config(tmp_path, cfg)

    def greetings():
        try:
            return (tmp_path / "greetings").read_text().split()
        except FileNotFoundError:
            return []

    def ctl(*args):
        return subprocess.run([BIN, *args, "-c", path], capture_output=True, text=True, timeout=15)

    def wait_greetings(want, timeout=10.0):
        deadline = time.monotonic() + timeout
        while greetings() != want:
            assert time.monotonic() < deadline, (greetings(), want)
            time.sleep(0.02)  # polling a file the service appends to, bounded

    def app_pid():
        res = ctl("status", "--json")
        assert res.returncode == 0, res.stderr
        return {s["name"]: s["pid"] for s in json.loads(res.stdout)["services"]}["app"]

    with Run(["run", "-c", path]) as r:
        r.err.wait_for(r"app: started")
        r.err.wait_for(r"other: started")
        assert ctl("wait", "--timeout", "10s").returncode == 0
        wait_greetings(["hello"])
        (tmp_path / "app.env").write_text("GREETING=bonjour\n")
        res = ctl("reload")
        assert res.returncode == 0, res.stderr
        assert "restarted: app" in res.stdout and "unchanged: 1" in res.stdout, res.stdout
        assert ctl("wait", "--timeout", "10s").returncode == 0
        wait_greetings(["hello", "bonjour"])
        # A bad line: exit 2 with its position, and nothing restarts.
        pid = app_pid()
        (tmp_path / "app.env").write_text("GREETING=hi\nbroken line\n")
        res = ctl("reload")
        assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
        assert re.search(r"app\.env:2:\d+: ", res.stderr), res.stderr
        assert app_pid() == pid
        r.signal(signal.SIGTERM)
        assert r.wait(15) == 0, r.err.text()


# ---- umask ------------------------------------------------------------------

@pytest.mark.parametrize("pid1", MODES)
def test_umask_per_service_and_inherited_otherwise(tmp_path, pid1):
    cfg = '[supervisor]\nhealth_listen = ""\ncontrol_socket = ""\n'
    cases = {"u022": '"022"', "u077": '"077"', "u027": "0o027", "u000": '"0"', "inherit": None}
    for name, value in cases.items():
        cfg += f"""
[services.{name}]
type = "oneshot"
command = "umask > {tmp_path}/{name}.umask; touch {tmp_path}/{name}.file"
"""
        if value is not None:
            cfg += f"umask = {value}\n"
    path = write_config(tmp_path, cfg)
    # The supervisor itself runs with umask 002: what a service without the key gets.
    code, _, err = sv(["run", "-c", path], pid1=pid1, preexec=lambda: os.umask(0o002))
    assert code == 0, err
    want = {"u022": 0o022, "u077": 0o077, "u027": 0o027, "u000": 0, "inherit": 0o002}
    for name, mask in want.items():
        got = int((tmp_path / f"{name}.umask").read_text().strip(), 8)
        assert got == mask, (name, oct(got))
        mode = os.stat(tmp_path / f"{name}.file").st_mode & 0o777
        assert mode == 0o666 & ~mask, (name, oct(mode))


# ---- limits -----------------------------------------------------------------

LIMIT_ROWS = {
    "cpu": "Max cpu time", "fsize": "Max file size", "data": "Max data size", "stack": "Max stack size",
    "core": "Max core file size", "rss": "Max resident set", "nproc": "Max processes",
    "nofile": "Max open files", "memlock": "Max locked memory", "as": "Max address space",
    "locks": "Max file locks", "sigpending": "Max pending signals", "msgqueue": "Max msgqueue size",
    "nice": "Max nice priority", "rtprio": "Max realtime priority", "rttime": "Max realtime timeout",
}
RES = {"cpu": resource.RLIMIT_CPU, "fsize": resource.RLIMIT_FSIZE, "data": resource.RLIMIT_DATA,
       "as": resource.RLIMIT_AS, "rttime": resource.RLIMIT_RTTIME,
       "memlock": resource.RLIMIT_MEMLOCK, "nofile": resource.RLIMIT_NOFILE}


def parse_limits(path):
    """/proc/PID/limits as {name: (soft, hard)}, 'unlimited' kept as text."""
    out = {}
    with open(path) as f:
        text = f.read()
    for name, row in LIMIT_ROWS.items():
        m = re.search(rf"^{row}\s+(\S+)\s+(\S+)", text, re.M)
        assert m, (row, text)
        out[name] = (m.group(1), m.group(2))
    return out


def has_cap_sys_resource():
    with open("/proc/self/status") as f:
        eff = int(re.search(r"^CapEff:\s*(\S+)", f.read(), re.M).group(1), 16)
    return bool(eff & (1 << 24))


def unlimited_candidate():
    """A limit that the supervisor may set to "unlimited": memlock when it
    can, else one whose hard limit is already unlimited here."""
    if has_cap_sys_resource() or resource.getrlimit(resource.RLIMIT_MEMLOCK)[1] == resource.RLIM_INFINITY:
        return "memlock"
    for name in ("fsize", "cpu", "as", "data", "rttime"):
        if resource.getrlimit(RES[name])[1] == resource.RLIM_INFINITY:
            return name
    return None


def started_with(nofile=(512, 4096), lowered=None):
    """preexec_fn: the limits a runtime would hand the supervisor."""
    def pre():
        resource.setrlimit(resource.RLIMIT_NOFILE, nofile)
        if lowered:
            hard = resource.getrlimit(RES[lowered])[1]
            resource.setrlimit(RES[lowered], (4096 * 1024, hard))
    return pre


@pytest.mark.parametrize("pid1", MODES)
def test_limits_per_service_soft_equals_hard_unless_a_pair(tmp_path, pid1):
    unl = unlimited_candidate()
    nproc_hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    nproc_pair = [1000, 2000] if nproc_hard == resource.RLIM_INFINITY or nproc_hard >= 2000 else [10, 20]
    unl_entry = f', {unl} = "unlimited"' if unl else ""
    cfg = f"""
[supervisor]
health_listen = ""
control_socket = ""
[services.given]
type = "oneshot"
limits = {{ nofile = 1000, core = 0, nproc = {nproc_pair}{unl_entry} }}
command = ["cp", "/proc/self/limits", "{tmp_path}/given.limits"]
[services.partial]
type = "oneshot"
limits = {{ core = [0, 0] }}
command = ["cp", "/proc/self/limits", "{tmp_path}/partial.limits"]
[services.none]
type = "oneshot"
command = "cp /proc/self/limits {tmp_path}/none.limits; cp /proc/$PPID/limits {tmp_path}/supervisor.limits"
"""
    path = write_config(tmp_path, cfg)
    code, _, err = sv(["run", "-c", path], pid1=pid1, preexec=started_with(lowered=unl))
    assert code == 0, err
    given = parse_limits(tmp_path / "given.limits")
    assert given["nofile"] == ("1000", "1000")
    assert given["core"] == ("0", "0")
    assert given["nproc"] == tuple(str(v) for v in nproc_pair)
    if unl:
        assert given[unl] == ("unlimited", "unlimited"), (unl, given[unl])
    # The supervisor raised its own soft open-files limit to the hard one...
    assert parse_limits(tmp_path / "supervisor.limits")["nofile"] == ("4096", "4096")
    # ...and a service gets the limits it was started with, but what its
    # `limits` name.
    assert parse_limits(tmp_path / "none.limits")["nofile"] == ("512", "4096")
    partial = parse_limits(tmp_path / "partial.limits")
    assert partial["nofile"] == ("512", "4096") and partial["core"] == ("0", "0")


def no_raising():
    """A wrapper that takes CAP_SYS_RESOURCE away from the supervisor, so that
    a hard limit cannot be raised even as root."""
    if not has_cap_sys_resource():
        return ()
    if not shutil.which("setpriv"):
        pytest.skip("needs setpriv to drop CAP_SYS_RESOURCE")
    return ("setpriv", "--inh-caps=-sys_resource", "--bounding-set=-sys_resource")


@pytest.mark.parametrize("pid1", MODES)
@pytest.mark.parametrize("value,shown", [("8192", "8192"), ("[1024, 8192]", r"\[1024, 8192\]")],
                         ids=["single", "pair"])
def test_a_limit_that_cannot_be_raised_is_an_error_at_start_naming_it(tmp_path, pid1, value, shown):
    marker = tmp_path / "api-ran"
    cfg = f"""
[supervisor]
health_listen = ""
control_socket = ""
[services.db]
command = ["sleep", "30"]
[services.api]
depends_on = ["db"]
limits = {{ core = 0, nofile = {value} }}
command = ["touch", "{marker}"]
"""
    path = write_config(tmp_path, cfg)
    t0 = time.monotonic()
    code, _, err = sv(["run", "-c", path], pid1=pid1, preexec=started_with(nofile=(1024, 4096)),
                      wrap=no_raising())
    assert code == 1, err
    assert re.search(rf"api: cannot set limit nofile to {shown}: Operation not permitted", err), err
    assert not marker.exists()
    assert time.monotonic() - t0 < 8, "reported at start, then a prompt shutdown"


BAD_VALUES = [
    ("unknown-limit", "limits = { nofiles = 10 }", r":8:\d+: limits: unknown limit 'nofiles'.*did you mean 'nofile'"),
    ("soft-above-hard", "limits = { nofile = [10, 5] }", r":8:\d+: limits\.nofile: the soft limit 10 is above the hard one 5"),
    ("three-values", "limits = { nofile = [1, 2, 3] }", r":8:\d+: limits\.nofile: expected \[soft, hard\]"),
    ("word", 'limits = { nofile = "lots" }', r":8:\d+: limits\.nofile: expected a number or \"unlimited\""),
    ("not-a-table", "limits = 5", r":8:\d+: limits"),
    ("umask-not-octal", 'umask = "099"', r":8:\d+: umask: expected an octal mask"),
    ("umask-too-big", 'umask = "1777"', r":8:\d+: umask: expected an octal mask"),
    ("env-file-type", "env_file = 5", r":8:\d+: env_file"),
    ("env-file-empty", 'env_file = [""]', r":8:\d+: env_file\[0\]: empty path"),
]


@pytest.mark.parametrize("line,pattern", [b[1:] for b in BAD_VALUES], ids=[b[0] for b in BAD_VALUES])
def test_bad_umask_limits_and_env_file_values_are_configuration_errors(tmp_path, line, pattern):
    cfg = f"""
[supervisor]
health_listen = ""
control_socket = ""

[services.app]
command = ["true"]
{line}
"""
    path = write_config(tmp_path, cfg)
    for cmd in ("check", "run"):
        code, _, err = sv([cmd, "-c", path])
        assert code == 2, (cmd, err)
        assert re.search(r"supervisor\.toml" + pattern, err), (cmd, err)
