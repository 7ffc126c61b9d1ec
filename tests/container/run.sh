#!/bin/bash
# The container case as the kernel sees it, without a container engine:
# the static supervisor is PID 1 of a fresh PID and mount namespace, chrooted
# into a minimal root (busybox-static + /etc/passwd + a config), and gets
# SIGTERM from outside, as `docker stop` or the kubelet sends it.
#
#   tests/container/run.sh [PATH/TO/STATIC/supervisor] [WORKDIR]
#
# Defaults: build-static/supervisor, WORKDIR = <binary's dir>/container-test.
# Needs root, util-linux (unshare), busybox-static, curl. Exits 0 when every
# check passed; prints the supervisor's output on failure. Takes ~5 s.
#
# Checks:
#  1. services start in dependency order (setup -> db -> web) and /readyz
#     answers 200 from the host (the network namespace is shared);
#  2. `user = "nobody"` works in the static binary (glibc's built-in files
#     NSS reads the chroot's /etc/passwd): web runs as uid 65534;
#  3. the namespace's PID 1 is the supervisor; SIGTERM to it from the host:
#     /readyz answers 503 during drain_delay, services stop in reverse order
#     (web before db), the supervisor exits 0;
#  4. single-command mode (`run -- CMD`) as PID 1: SIGTERM is forwarded and
#     the command's own exit status (7) comes back, as with tini;
#  5. on the host, with its nsswitch.conf (Debian: "passwd: files systemd"),
#     a user that is in no file is reported as unknown (the static glibc
#     must not try to load libnss_systemd: it would crash).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$(realpath "${1:-$repo/build-static/supervisor}")
work=${2:-$(dirname "$bin")/container-test}
started=$(date +%s.%N)

fail() {
    echo "FAIL: $*" >&2
    for f in "$work"/supervisor.log "$work"/root/run/stamps; do
        [ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
    done
    exit 1
}

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (unshare, chroot)" >&2; exit 77; }
[ -x "$bin" ] || fail "no supervisor binary at $bin (build with -DSUPERVISOR_STATIC=ON)"
# ldd fails on a static executable ("not a dynamic executable").
ldd "$bin" >/dev/null 2>&1 && fail "$bin is dynamically linked; the chroot has no libraries"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 \
    || fail "needs a static busybox (apt-get install busybox-static)"

# --- The root ----------------------------------------------------------------
root=$work/root
rm -rf "$work"
mkdir -p "$root"/{bin,usr/bin,etc/supervisor,proc,tmp,run,www}
"$repo/packaging/busybox-root.sh" "$root" "$busybox"
cp "$bin" "$root/usr/bin/supervisor"
echo ok > "$root/www/index.html"
# Container runtimes always provide /dev/null (the supervisor gives it to
# every service as stdin).
mkdir -p "$root/dev"
mknod -m 666 "$root/dev/null" c 1 3
chmod 1777 "$root/tmp" "$root/run"

free_port() {  # perl-base is Essential in Debian
    perl -MSocket -e 'socket(S, PF_INET, SOCK_STREAM, 0) or die; bind(S, sockaddr_in(0, INADDR_LOOPBACK)) or die;
        print((sockaddr_in(getsockname(S)))[0], "\n")'
}
port=$(free_port)
webport=$(free_port)

# Each service writes "start NAME" / "stop NAME" into /run/stamps.
cat > "$root/etc/supervisor/supervisor.toml" <<EOF
[supervisor]
health_listen = "127.0.0.1:$port"
drain_delay = "1s"
shutdown_timeout = "20s"

[services.setup]
type = "oneshot"
command = "echo 'start setup' >> /run/stamps && chmod 666 /run/stamps"

[services.db]
depends_on = ["setup"]
command = '''
echo 'start db' >> /run/stamps
trap 'echo "stop db" >> /run/stamps; exit 0' TERM
touch /run/db.ready
while :; do sleep 1 & wait \$!; done
'''
stop_grace = "5s"
[services.db.ready]
exec = ["test", "-f", "/run/db.ready"]
interval = "50ms"

[services.web]
depends_on = ["db"]
user = "nobody"
command = '''
echo "start web uid=\$(id -u)" >> /run/stamps
httpd -f -p 127.0.0.1:$webport -h /www & pid=\$!
trap 'echo "stop web" >> /run/stamps; kill \$pid 2>/dev/null; wait \$pid; exit 0' TERM
wait \$pid
'''
stop_grace = "5s"
[services.web.ready]
http = "http://127.0.0.1:$webport/index.html"
interval = "50ms"
EOF

"$bin" check -c "$root/etc/supervisor/supervisor.toml" >/dev/null || fail "config does not check"

# --- Start it as PID 1 of a new PID + mount namespace --------------------------
# --mount-proc=DIR mounts a proc for the new PID namespace on DIR inside the
# new mount namespace (private propagation: the host never sees it).
start_container() {  # args: supervisor arguments
    unshare --fork --pid --mount --mount-proc="$root/proc" \
        chroot "$root" /usr/bin/supervisor "$@" \
        </dev/null >"$work/supervisor.log" 2>&1 &
    upid=$!
}

# The namespace's PID 1: the only child of unshare.
ns_init_pid() {
    local deadline=$((SECONDS + 5)) kids
    while [ $SECONDS -lt $deadline ]; do
        kids=$(cat /proc/"$upid"/task/*/children 2>/dev/null || true)
        kids=${kids// /}
        if [ -n "$kids" ] && grep -qE '^NSpid:.*[[:space:]]1$' "/proc/$kids/status" 2>/dev/null; then
            echo "$kids"
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# Waits for unshare (and so the namespace) to end; sets rc to its exit
# status, or to "timeout" after SIGKILLing it.
wait_exit() {  # timeout seconds
    local deadline=$((SECONDS + $1))
    while kill -0 "$upid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    if kill -0 "$upid" 2>/dev/null; then
        kill -KILL "$init" "$upid" 2>/dev/null || true
        wait "$upid" 2>/dev/null || true
        rc=timeout
        return
    fi
    rc=0
    wait "$upid" || rc=$?
}

cleanup() {
    if [ -n "${upid:-}" ] && kill -0 "$upid" 2>/dev/null; then
        [ -n "${init:-}" ] && kill -KILL "$init" 2>/dev/null
        kill -KILL "$upid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port$1" || true; }

# --- 1-3: config mode ------------------------------------------------------------
start_container run
init=$(ns_init_pid) || fail "no PID 1 in the new namespace"
[ "$(cat /proc/"$init"/comm)" = supervisor ] || fail "namespace PID 1 is $(cat /proc/"$init"/comm)"

deadline=$((SECONDS + 15))
until [ "$(http_code /readyz)" = 200 ]; do
    [ $SECONDS -lt $deadline ] || fail "/readyz not 200 within 15 s"
    kill -0 "$upid" 2>/dev/null || fail "supervisor exited early"
    sleep 0.1
done
ready_at=$(date +%s.%N)
[ "$(curl -s -m 2 "http://127.0.0.1:$webport/index.html")" = ok ] || fail "web does not serve"
expected_start=$'start setup\nstart db\nstart web uid=65534'
[ "$(cat "$root/run/stamps")" = "$expected_start" ] || fail "start order / user: $(cat "$root/run/stamps")"
echo "ok: started in order setup -> db -> web (web as uid 65534), /readyz 200"

kill -TERM "$init"
sleep 0.3
code=$(http_code /readyz)
[ "$code" = 503 ] || fail "/readyz during drain answered $code, expected 503"
[ "$(http_code /livez)" = 200 ] || fail "/livez not 200 during drain"
wait_exit 15
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM, expected 0"
expected_all=$expected_start$'\nstop web\nstop db'
[ "$(cat "$root/run/stamps")" = "$expected_all" ] || fail "stop order: $(cat "$root/run/stamps")"
grep -q "received SIGTERM" "$work/supervisor.log" || fail "no 'received SIGTERM' message"
echo "ok: SIGTERM from the host -> /readyz 503 while draining, stopped web then db, exit 0"
mountpoint -q "$root/proc" && fail "the namespace's /proc leaked to the host"

# --- 4: single-command mode ------------------------------------------------------
start_container run -- /bin/sh -c 'trap "exit 7" TERM; echo up > /run/single; while :; do sleep 1 & wait $!; done'
init=$(ns_init_pid) || fail "no PID 1 in the new namespace (single-command mode)"
deadline=$((SECONDS + 5))
until [ -f "$root/run/single" ]; do
    [ $SECONDS -lt $deadline ] || fail "single command did not start"
    sleep 0.05
done
kill -TERM "$init"
wait_exit 10
[ "$rc" = 7 ] || fail "single-command mode: exit status $rc, expected 7"
echo "ok: run -- CMD as PID 1 forwards SIGTERM and returns CMD's status (7)"

# --- 5: a user that is in no file ------------------------------------------------
# On the host, not in the chroot: glibc goes on to the next source of the
# host's nsswitch.conf (Debian: "passwd: files systemd"), and a static
# program that dlopens libnss_systemd crashes. The static build pins NSS to
# its built-in sources (supervisor/os/name_service.cc), so this is a clean error.
# (Exercises the crash only where such a module is installed.)
cat > "$work/unknown-user.toml" <<'EOF'
[supervisor]
health_listen = ""
[services.app]
command = ["true"]
user = "no-such-user-4242"
EOF
rc=0
timeout 10 "$bin" run -c "$work/unknown-user.toml" >"$work/supervisor.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "unknown user: exit status $rc, expected 1 (139 = the NSS crash)"
grep -q "unknown user 'no-such-user-4242'" "$work/supervisor.log" || fail "unknown user not reported"
echo "ok: an unknown user is reported (exit 1) with the host's nsswitch.conf" \
     "($(grep -E '^passwd:' /etc/nsswitch.conf 2>/dev/null | tr -s ' \t' ' ' || echo 'no nsswitch.conf'))"

ended=$(date +%s.%N)
awk -v s="$started" -v r="$ready_at" -v e="$ended" \
    'BEGIN { printf "container test passed: ready in %.2fs, total %.2fs\n", r - s, e - s }'
