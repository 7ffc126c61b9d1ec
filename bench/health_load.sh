#!/usr/bin/env bash
# Health endpoint under load: the supervisor's /readyz against nginx's
# `return 200 "ok";`, both on loopback, measured with wrk, interleaved.
#
#   bench/health_load.sh            # 3 rounds of 5 s each, wrk -t2 -c64
#   ROUNDS=5 DURATION=10s CONNS=128 bench/health_load.sh
#
# It installs wrk and nginx from Debian with apt-get when they are missing
# (as root). nginx runs as a plain foreground process (daemon off) with its
# own prefix in a temporary folder; the system nginx service is never used
# nor started. The supervisor runs 100 `sleep` services. Every wait is
# bounded and everything started here is stopped on exit (trap).
#
# Prints a Markdown table: requests/s median (min–max), p99 latency median
# (min–max), and the ratio supervisor/nginx.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUPERVISOR_BIN=${SUPERVISOR_BIN:-$ROOT/build/supervisor}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
SERVICES=${SERVICES:-100}

log() { printf '%s\n' "$*" >&2; }
die() { log "health_load: $*"; exit 1; }

[ -x "$SUPERVISOR_BIN" ] || die "no supervisor binary at $SUPERVISOR_BIN (build it: make -C build)"

# ---- tools ------------------------------------------------------------------

apt_install() {
    [ "$(id -u)" = 0 ] || die "$* missing and not root: install it (apt-get install $*)"
    # Never let a package's maintainer scripts start a system service: where
    # no policy-rc.d forbids it, install one for the duration of the install.
    local own_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        own_policy=1
    fi
    local rc=0
    timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=240 --no-install-recommends "$@" >&2 ||
        { timeout 300 apt-get update -q >&2 &&
          timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=240 --no-install-recommends "$@" >&2; } ||
        rc=$?
    [ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d
    return $rc
}

command -v wrk >/dev/null || apt_install wrk || die "cannot install wrk"
NGINX=$(command -v nginx || true)
[ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
if [ -z "$NGINX" ]; then
    apt_install nginx-light || apt_install nginx || die "cannot install nginx"
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi
[ -x "$NGINX" ] || die "no nginx binary"

# ---- clean-up ---------------------------------------------------------------

TMP=$(mktemp -d /tmp/health_load.XXXXXX)
SV_PID="" NGINX_PID="" WRK_PID=""

stop_pid() {  # stop_pid PID SIGNAL: signal, wait up to 10 s, then SIGKILL
    local pid=$1 sig=$2
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    stop_pid "$WRK_PID" TERM
    stop_pid "$SV_PID" TERM
    stop_pid "$NGINX_PID" QUIT
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ok() {  # wait_ok URL: bounded wait for a 200
    for _ in $(seq 200); do
        curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    die "$1 did not answer 200 within 10 s"
}

# ---- the supervisor: SERVICES sleep services --------------------------------

SV_PORT=$(free_port)
{
    printf '[supervisor]\nhealth_listen = "127.0.0.1:%s"\n' "$SV_PORT"
    for i in $(seq "$SERVICES"); do
        printf '[services.s%03d]\ncommand = ["sleep", "infinity"]\nlog = "null"\n' "$i"
    done
} > "$TMP/supervisor.toml"
"$SUPERVISOR_BIN" run -c "$TMP/supervisor.toml" > "$TMP/supervisor.log" 2>&1 &
SV_PID=$!

# ---- nginx: one worker, access_log off, its own prefix ------------------------

NGINX_PORT=$(free_port)
while [ "$NGINX_PORT" = "$SV_PORT" ]; do NGINX_PORT=$(free_port); done
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
cat > "$TMP/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/tmp/body;
    proxy_temp_path $TMP/nginx/tmp/proxy;
    fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
    uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
    scgi_temp_path $TMP/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /readyz { default_type text/plain; return 200 "ok"; }
    }
}
EOF
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" \
    > "$TMP/nginx/logs/stdout.log" 2>&1 &
NGINX_PID=$!

SV_URL="http://127.0.0.1:$SV_PORT/readyz"
NGINX_URL="http://127.0.0.1:$NGINX_PORT/readyz"
wait_ok "$SV_URL"   # /readyz 200: all SERVICES services are up
wait_ok "$NGINX_URL"

# ---- measure -------------------------------------------------------------------

# run_wrk NAME URL ROUND: appends "NAME rps p99_ms errors" to $TMP/results
run_wrk() {
    local out="$TMP/wrk.$1.$3"
    # In the background and waited for, so that a signal to this script is
    # acted on at once (bash runs traps only between foreground commands).
    timeout 60 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$2" > "$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || die "wrk failed: $(cat "$out")"
    WRK_PID=""
    awk -v name="$1" '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
            return v + 0
        }
        /Requests\/sec:/ { rps = $2 }
        $1 == "99%" { p99 = ms($2) }
        /Non-2xx or 3xx responses:/ { errors += $NF }
        /Socket errors:/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
        END {
            if (rps == "" || p99 == "") { print "cannot parse wrk output" > "/dev/stderr"; exit 1 }
            printf "%s %s %.3f %d\n", name, rps, p99, errors
        }' "$out" >> "$TMP/results" || die "cannot parse: $(cat "$out")"
    log "  $1 round $3: $(tail -n 1 "$TMP/results" | cut -d' ' -f2-) (req/s, p99 ms, errors)"
}

log "supervisor $($SUPERVISOR_BIN --version 2>/dev/null | head -n 1) on :$SV_PORT ($SERVICES services), nginx $("$NGINX" -v 2>&1 | sed 's/.*\///') on :$NGINX_PORT"
log "wrk -t$THREADS -c$CONNS -d$DURATION --latency, $ROUNDS interleaved rounds; $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
# A short warm-up of each, not counted.
timeout 30 wrk -t1 -c8 -d1s "$SV_URL" > /dev/null 2>&1 || true
timeout 30 wrk -t1 -c8 -d1s "$NGINX_URL" > /dev/null 2>&1 || true
: > "$TMP/results"
for round in $(seq "$ROUNDS"); do
    run_wrk supervisor "$SV_URL" "$round"
    run_wrk nginx "$NGINX_URL" "$round"
done
kill -0 "$SV_PID" 2>/dev/null || die "the supervisor died during the run: $(tail -n 5 "$TMP/supervisor.log")"

# ---- report --------------------------------------------------------------------

python3 - "$TMP/results" "$THREADS" "$CONNS" "$DURATION" "$ROUNDS" <<'EOF'
import statistics, sys
path, threads, conns, duration, rounds = sys.argv[1:]
res = {}
for line in open(path):
    name, rps, p99, err = line.split()
    res.setdefault(name, []).append((float(rps), float(p99), int(err)))
med = lambda xs: statistics.median(xs)
print(f"wrk -t{threads} -c{conns} -d{duration} --latency, {rounds} interleaved rounds, median (min–max):\n")
print("| server | requests/s | p99 latency | errors |")
print("| --- | ---: | ---: | ---: |")
labels = {"supervisor": "supervisor `/readyz` (100 services)", "nginx": 'nginx `return 200 "ok";` (1 worker)'}
for name in ("supervisor", "nginx"):
    r = res[name]
    rps = [x[0] for x in r]
    p99 = [x[1] for x in r]
    print(f"| {labels[name]} | {med(rps):,.0f} ({min(rps):,.0f}–{max(rps):,.0f}) "
          f"| {med(p99):.2f} ms ({min(p99):.2f}–{max(p99):.2f}) | {sum(x[2] for x in r)} |")
ratio = med([x[0] for x in res["supervisor"]]) / med([x[0] for x in res["nginx"]])
sv_p99 = med([x[1] for x in res["supervisor"]])
print(f"| ratio supervisor/nginx | {ratio:.2f} | | |")
print()
print(f"Aim: requests/s >= 0.5 x nginx: {'met' if ratio >= 0.5 else 'NOT met'} ({ratio:.2f}); "
      f"p99 < 5 ms: {'met' if sv_p99 < 5 else 'NOT met'} ({sv_p99:.2f} ms).")
EOF
