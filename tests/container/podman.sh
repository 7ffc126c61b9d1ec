#!/bin/bash
# The static supervisor as the ENTRYPOINT of a real container engine
# (podman, Debian's), doing what users do with it:
#
#   a. `podman run -d` with the supervisor as ENTRYPOINT and two services
#      (web depends on db), then `podman stop -t 10`: web gets SIGTERM
#      before db, the container's exit code is 0, well within the 10 s;
#   b. `podman kill -s HUP`: forwarded to both services, the container keeps
#      running and stays healthy;
#   c. no --init: orphans made by a service are reparented to the supervisor
#      (PID 1) and reaped: `podman top` shows no Z process afterwards;
#   d. HEALTHCHECK without curl: `--health-cmd '["/usr/bin/supervisor","probe"]'`;
#      `podman healthcheck run` exits 0 while the services are ready, and 1
#      once a service has failed for good (`podman inspect` says unhealthy,
#      and the health log holds the probe's verbose list);
#   e. the main-command mode `podman run -it IMAGE -c FILE -- sh`, through a
#      pseudo-terminal: the services start before the shell's prompt, and the
#      shell's `exit 3` is the container's status. Skipped (with a message)
#      while `supervisor run --help` does not mention "-c FILE -- COMMAND";
#   f. the drop-in for tini, interactively: `podman run -it IMAGE -- sh` with
#      ENTRYPOINT ["/usr/bin/supervisor", "run"], `exit 3` -> status 3.
#
#   tests/container/podman.sh [PATH/TO/STATIC/supervisor] [WORKDIR]
#
# Defaults: build-static/supervisor, WORKDIR = <binary's dir>/podman-test.
# The image is built without any registry: a busybox root
# (packaging/busybox-root.sh) plus the binary, `tar | podman import`.
# Every container runs with --network none (127.0.0.1 works inside) and with
# `--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=4096:4096`: crun
# refuses hybrid cgroup hierarchies, and without CAP_SYS_RESOURCE podman
# cannot raise the limits it would otherwise copy from the host.
# Needs root, podman, runc, busybox-static, python3 (the pseudo-terminal).
# Exit 77 (skipped, with the reason) when podman is missing or cannot run a
# container here. Containers and the image are removed on every exit path.
# Every wait is bounded. About 15 s.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$(realpath "${1:-$repo/build-static/supervisor}")
work=${2:-$(dirname "$bin")/podman-test}
started=$(date +%s.%N)

skip() { echo "SKIP: $*" >&2; exit 77; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

run_flags=(--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --network none)
tag=localhost/supervisor-test:$$
prefix=supervisor-test-$$
containers=()

fail() {
    echo "FAIL: $*" >&2
    local c
    for c in "${containers[@]}"; do
        echo "--- podman logs $c" >&2
        podman logs "$c" 2>&1 | tail -n 40 >&2 || true
    done
    for f in "$work"/stamps-*/log "$work"/*.transcript; do
        [ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
    done
    exit 1
}

cleanup() {
    local c
    for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
    podman rmi -f "$tag" >/dev/null 2>&1 || true
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || skip "needs root (rootful podman, bind mounts of $work)"
command -v podman >/dev/null || skip "podman is not installed" \
    "(apt-get install podman runc uidmap slirp4netns fuse-overlayfs containernetworking-plugins)"
command -v runc >/dev/null || skip "runc is not installed (apt-get install runc)"
command -v python3 >/dev/null || skip "python3 is not installed (the pseudo-terminal driver)"
[ -x "$bin" ] || fail "no supervisor binary at $bin (build with -DSUPERVISOR_STATIC=ON)"
ldd "$bin" >/dev/null 2>&1 && fail "$bin is dynamically linked; the image has no libraries"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 \
    || fail "needs a static busybox (apt-get install busybox-static)"

# --- The image -------------------------------------------------------------------
root=$work/root
rm -rf "$work"
mkdir -p "$root"/{usr/bin,etc/supervisor,tmp,run,stamps} "$work"/stamps-{a,d,e}
"$repo/packaging/busybox-root.sh" "$root" "$busybox"
cp "$bin" "$root/usr/bin/supervisor"
chmod 1777 "$root/tmp"

# Each of db and web writes "start NAME", "HUP NAME", "TERM NAME" to
# /stamps/log (a bind mount of the host's $work/stamps-*).
service() {  # name
    cat <<EOF
command = '''
echo "start $1" >> /stamps/log
trap 'echo "HUP $1" >> /stamps/log' HUP
trap 'echo "TERM $1" >> /stamps/log; exit 0' TERM
touch /run/$1.ready
while :; do sleep 1 & wait \$!; done
'''
stop_grace = "5s"
[services.$1.ready]
exec = ["test", "-f", "/run/$1.ready"]
interval = "50ms"
EOF
}

{
    cat <<'EOF'
[supervisor]
health_listen = "127.0.0.1:9180"
shutdown_timeout = "20s"

[services.db]
EOF
    service db
    printf '\n[services.web]\ndepends_on = ["db"]\n'
    service web
    cat <<'EOF'

# Makes five orphans whenever /run/make-orphans appears: each `sleep` is
# left behind by its subshell, so the kernel hands it to PID 1. (SIGHUP,
# forwarded in (b), is ignored here.)
[services.orphans]
critical = false
command = '''
trap '' HUP
while :; do
    if [ -f /run/make-orphans ]; then
        rm -f /run/make-orphans
        for i in 1 2 3 4 5; do (sleep 3 &); done
    fi
    sleep 0.1
done
'''
EOF
} > "$root/etc/supervisor/supervisor.toml"

# (d)'s configuration: db, and flaky, which fails for good (two failed runs)
# once /run/flaky.fail exists. Bind-mounted over the image's configuration.
{
    cat <<'EOF'
[supervisor]
health_listen = "127.0.0.1:9180"

[services.db]
EOF
    service db
    cat <<'EOF'

[services.flaky]
critical = false
restart = "on-failure"
max_restarts = 1
restart_delay = "100ms"
command = "while [ ! -f /run/flaky.fail ]; do sleep 0.1; done; exit 1"
EOF
} > "$work/health.toml"

"$bin" check -c "$root/etc/supervisor/supervisor.toml" >/dev/null || fail "config does not check"
"$bin" check -c "$work/health.toml" >/dev/null || fail "health config does not check"

# Can podman run a container here at all? (Anything else is a failure.)
if ! out=$(timeout 60 podman run --rm "${run_flags[@]}" --rootfs "$root" /bin/true 2>&1); then
    skip "podman cannot run a container here: $(printf '%s' "$out" | head -n 3 | tr '\n' ' ')"
fi

tar -C "$root" -c . |
    podman import -q --change 'ENTRYPOINT ["/usr/bin/supervisor","run","-c","/etc/supervisor/supervisor.toml"]' \
        - "$tag" >/dev/null || fail "podman import"

# podman with a bound: a wedged engine must not hang the test.
pm() { timeout 60 podman "$@"; }

start() {  # name, podman run arguments...
    local name=$prefix-$1
    shift
    containers+=("$name")
    pm run -d --name "$name" "${run_flags[@]}" "$@" "$tag" >/dev/null || fail "podman run $name"
}

# Waits (bounded) until a command succeeds.
until_ok() {  # seconds, what, command...
    local limit=$1 what=$2
    local deadline=$((SECONDS + limit))
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "$what: not within ${limit}s"
        sleep 0.1
    done
}

line_of() { grep -n -m1 -x -F -- "$2" "$1" | cut -d: -f1; }

# --- a, b, c: the ENTRYPOINT container -----------------------------------------
a=$prefix-a
start a -v "$work/stamps-a:/stamps"
until_ok 20 "services of $a ready" pm exec "$a" /usr/bin/supervisor probe readyz
ready_at=$(now)
log=$work/stamps-a/log
[ "$(head -n 2 "$log")" = $'start db\nstart web' ] || fail "start order: $(cat "$log")"
[ "$(pm inspect --format '{{.State.Pid}}' "$a")" -gt 0 ] || fail "no pid for $a"
top_pid1=$(pm top "$a" pid args | awk '$1 == 1 { $1 = ""; print }')
case $top_pid1 in *"/usr/bin/supervisor run"*) ;; *) fail "PID 1 of $a is '$top_pid1'" ;; esac
echo "ok: (a) podman run -d: the supervisor is PID 1, db then web started and ready"

# (c) orphans, reparented to the supervisor and reaped by it.
pm exec "$a" touch /run/make-orphans
orphans() { pm top "$a" pid ppid state args | awk '$4 == "sleep" && $5 == "3"'; }
deadline=$((SECONDS + 10))
until [ "$(orphans | awk '$2 == 1' | wc -l)" -ge 5 ]; do
    [ $SECONDS -lt $deadline ] || fail "no five orphans with PPID 1 within 10 s: $(pm top "$a" pid ppid state args)"
    sleep 0.1
done
deadline=$((SECONDS + 15))
zombies() { pm top "$a" pid ppid state args | awk 'NR > 1 && $3 ~ /Z/'; }
while [ -n "$(orphans)" ] || [ -n "$(zombies)" ]; do
    [ $SECONDS -lt $deadline ] ||
        fail "orphans or zombies left 15 s later: $(pm top "$a" pid ppid state args)"
    sleep 0.2
done
echo "ok: (c) five orphans reparented to PID 1 (the supervisor), then reaped: no Z process"

# (b) SIGHUP from the engine reaches both services; nothing stops.
pm kill -s HUP "$a" >/dev/null
until_ok 10 "HUP reached db and web" sh -c "grep -qx 'HUP db' '$log' && grep -qx 'HUP web' '$log'"
sleep 0.5  # a stop would be under way by now; the container must still run
[ "$(pm inspect --format '{{.State.Running}}' "$a")" = true ] || fail "$a stopped after SIGHUP"
pm exec "$a" /usr/bin/supervisor probe || fail "not healthy after SIGHUP"
grep -q "^TERM" "$log" && fail "a service got SIGTERM after SIGHUP: $(cat "$log")"
echo "ok: (b) podman kill -s HUP: forwarded to db and web, the container runs on, healthy"

# (a) podman stop: SIGTERM, reverse order, exit code 0, within the 10 s.
t=$(now)
pm stop -t 10 "$a" >/dev/null || fail "podman stop"
stop_s=$(since "$t")
code=$(pm inspect --format '{{.State.ExitCode}}' "$a")
[ "$code" = 0 ] || fail "exit code $code after podman stop, expected 0"
tw=$(line_of "$log" "TERM web")
td=$(line_of "$log" "TERM db")
[ -n "$tw" ] && [ -n "$td" ] && [ "$tw" -lt "$td" ] || fail "stop order: $(cat "$log")"
awk -v s="$stop_s" 'BEGIN { exit !(s < 9) }' || fail "podman stop took ${stop_s}s (SIGKILL at 10 s?)"
# (Whole outputs into variables: with pipefail, `grep -q` closing a pipe
# early would fail the writer with SIGPIPE.)
logs=$(pm logs "$a" 2>&1)
grep -q "received SIGTERM" <<<"$logs" || fail "no 'received SIGTERM' in podman logs"
echo "ok: (a) podman stop -t 10: web stopped before db, exit code 0, in ${stop_s}s"

# --- d: HEALTHCHECK with supervisor probe ------------------------------------------
d=$prefix-d
start d -v "$work/stamps-d:/stamps" -v "$work/health.toml:/etc/supervisor/supervisor.toml:ro" \
    --health-cmd '["/usr/bin/supervisor","probe"]' --health-interval disable --health-retries 1
until_ok 20 "podman healthcheck run $d exits 0" pm healthcheck run "$d"
[ "$(pm inspect --format '{{.State.Health.Status}}' "$d")" = healthy ] ||
    fail "health status $(pm inspect --format '{{.State.Health.Status}}' "$d") after a passing check"
pm exec "$d" touch /run/flaky.fail
flaky_failed() {
    local table
    table=$(pm exec "$d" /usr/bin/supervisor status) || return 1
    [ -n "$(awk '$1 == "flaky" && $2 == "failed"' <<<"$table")" ]
}
until_ok 10 "flaky failed for good" flaky_failed
rc=0
pm healthcheck run "$d" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "podman healthcheck run exited $rc with flaky failed, expected 1"
health=$(pm inspect --format '{{.State.Health.Status}}' "$d")
[ "$health" = unhealthy ] || fail "health status '$health', expected unhealthy"
health_log=$(pm inspect --format '{{range .State.Health.Log}}{{.Output}}{{end}}' "$d")
grep -q -F -- "[-]flaky not ready" <<<"$health_log" ||
    fail "the health log lacks the probe's list: $health_log"
pm rm -f -t 0 "$d" >/dev/null
echo "ok: (d) HEALTHCHECK supervisor probe: healthy while ready; unhealthy (exit 1, the" \
     "verbose list in the health log) once flaky failed for good"

# --- e, f: interactive, through a pseudo-terminal -----------------------------------
shell_line='echo pid=$$; exit 3'
interactive() {  # name, transcript, stamps copy, podman run arguments...
    local name=$prefix-$1 transcript=$2 copy=$3
    shift 3
    containers+=("$name")
    rc=0
    python3 "$here/pty_session.py" --timeout 60 --send "$shell_line" \
        --at-prompt "$work/stamps-e/log" "$copy" -- \
        podman run --rm -it --name "$name" "${run_flags[@]}" "$@" >"$transcript" 2>&1 || rc=$?
}

run_help=$("$bin" run --help 2>&1 || true)
if grep -q -F -- "-c FILE -- COMMAND" <<<"$run_help"; then
    interactive e "$work/e.transcript" "$work/e.stamps-at-prompt" \
        -v "$work/stamps-e:/stamps" --entrypoint '["/usr/bin/supervisor","run"]' "$tag" \
        -c /etc/supervisor/supervisor.toml -- sh
    [ "$rc" = 3 ] || fail "(e) podman run -it ... -- sh: status $rc after 'exit 3', expected 3"
    grep -qx "pid=[0-9]*" "$work/e.transcript" || fail "(e) the shell did not run the line"
    grep -qx "pid=1" "$work/e.transcript" && fail "(e) the shell is PID 1, not the supervisor"
    [ "$(head -n 2 "$work/e.stamps-at-prompt")" = $'start db\nstart web' ] ||
        fail "(e) services not started before the prompt: '$(cat "$work/e.stamps-at-prompt")'"
    echo "ok: (e) podman run -it IMAGE -c FILE -- sh: db and web up before the prompt," \
         "'exit 3' -> status 3"
else
    echo "SKIP: (e) main-command mode: 'supervisor run --help' does not mention" \
         "'-c FILE -- COMMAND' yet"
fi

interactive f "$work/f.transcript" "$work/f.stamps-at-prompt" \
    --entrypoint '["/usr/bin/supervisor","run"]' "$tag" -- sh
[ "$rc" = 3 ] || fail "(f) podman run -it IMAGE -- sh: status $rc after 'exit 3', expected 3"
grep -qx "pid=[0-9]*" "$work/f.transcript" || fail "(f) the shell did not run the line"
echo "ok: (f) podman run -it with ENTRYPOINT supervisor run, -- sh: 'exit 3' -> status 3"

awk -v s="$started" -v r="$ready_at" -v e="$(now)" \
    'BEGIN { printf "podman test passed: first stack ready in %.2fs, total %.2fs\n", r - s, e - s }'
