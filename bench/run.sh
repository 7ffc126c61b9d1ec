#!/usr/bin/env bash
# The benchmark suite: supervisor side by side with tini, dumb-init,
# catatonit, s6, runit, supervisord and a minimal C PID 1, the floor
# (issues 7 and 14; docs/performance.md).
#
#   bench/run.sh                 # as root, on Debian 12; prints a Markdown report
#   bench/run.sh --quick         # < 2 minutes when the builds are current: a few
#                                # runs of each row, the ratios only (not a CI gate)
#   BUDGET=300 bench/run.sh      # seconds for the scenarios (default: what is left
#                                # of 9 minutes after the builds, at most 450)
#   ONLY=one,fifty bench/run.sh  # some scenarios: sizes,footprint,idle,one,fifty,
#                                # many,storm,log
#   TOOLS=ours,catatonit bench/run.sh   # some columns: tini,tini-static,dumb-init,
#                                # catatonit,s6,runit,supervisord,ours,ours-c,
#                                # ours-static,ours-static-c,ours-static-inherit,floor
#
# 1. installs the anchors and tools from Debian when missing (tini,
#    dumb-init, catatonit, s6, runit, supervisor = supervisord, strace,
#    python3, the build dependencies);
# 2. builds the Release binary in build-bench/ and the static one
#    (SUPERVISOR_STATIC=ON, MinSizeRel: the shipped static build) in
#    build-bench-static/ (skipped, with a note, if that build fails);
# 3. compiles bench/launch.c, bench/stamp_first.c and bench/floor_init.c
#    (static when possible) and bench/linewriter.c;
# 4. runs bench/bench.py: every scenario for every tool that can do it, each
#    tool as PID 1 of a fresh PID namespace (unshare -fp --mount-proc),
#    interleaved run by run, bounded by BUDGET; prints the paired ratios of
#    ours to the best anchor and to the floor, the aims of issues 14 and 7 and
#    one Markdown table of everything, and keeps them in
#    build-bench/bench-results.{md,json} (--quick: bench-quick.{md,json}).
#
# Every cmake build holds build/.build.lock (flock), so builds started by
# others in this tree never run at the same time as these.
#
# Knobs (environment): BUDGET, ROUNDS_SPAWN (50), ROUNDS_FOOTPRINT (3),
# ROUNDS_FIFTY (10), ROUNDS_MANY (3), MANY (500), ROUNDS_STORM (3),
# ORPHANS (5000), ROUNDS_LOG (5), LOG_BYTES (1 GiB), ONLY, TOOLS, NO_BUILD=1
# (use the binaries already in build-bench*/), NO_STATIC=1, EXTRA=1 (then also
# bench/health_load.sh: minutes more).
set -euo pipefail

QUICK=""
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//;$d'; exit 0 ;;
        *) printf 'bench: unknown argument %s (see --help)\n' "$arg" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build-bench
BUILD_STATIC=$ROOT/build-bench-static
T0=$(date +%s)

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (PID namespaces, strace of other processes, apt-get)"

# ---- packages -------------------------------------------------------------------

apt_install() {
    # Never let a package's maintainer scripts start a system service
    # (supervisor's and runit's would): where no policy-rc.d forbids it,
    # install one for the duration of the install.
    local own_policy="" rc=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        own_policy=1
    fi
    timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o DPkg::Lock::Timeout=240 --no-install-recommends "$@" >&2 ||
        { timeout 300 apt-get update -q -o DPkg::Lock::Timeout=240 >&2 &&
          timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
              -o DPkg::Lock::Timeout=240 --no-install-recommends "$@" >&2; } ||
        rc=$?
    [ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d
    return $rc
}

packages="tini dumb-init catatonit s6 runit supervisor strace python3 util-linux binutils
          build-essential cmake libev-dev libtomlplusplus-dev"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    log "installing:$missing"
    # shellcheck disable=SC2086
    apt_install $missing || die "cannot install:$missing"
fi

# ---- builds ---------------------------------------------------------------------

# One build at a time in this tree: the machine has 2 cores, and others
# build here too (they take the same lock).
LOCK=$ROOT/build/.build.lock
mkdir -p "$ROOT/build"
build() {  # build DIR: the supervisor binary, under the lock
    flock "$LOCK" nice cmake --build "$1" -j2 --target supervisor_bin
}

STATIC_BIN=""
if [ "${NO_BUILD:-}" != 1 ]; then
    log "building the Release binary in $BUILD"
    mkdir -p "$BUILD"
    { { [ -f "$BUILD/CMakeCache.txt" ] ||
        cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSUPERVISOR_TESTS=OFF; } &&
      build "$BUILD"; } >"$BUILD/build.log" 2>&1 ||
        { tail -30 "$BUILD/build.log" >&2; die "the Release build failed (see $BUILD/build.log)"; }
    if [ "${NO_STATIC:-}" != 1 ]; then
        log "building the static binary in $BUILD_STATIC"
        if { [ -f "$BUILD_STATIC/CMakeCache.txt" ] ||
             cmake -S "$ROOT" -B "$BUILD_STATIC" -DCMAKE_BUILD_TYPE=MinSizeRel \
                -DSUPERVISOR_TESTS=OFF -DSUPERVISOR_STATIC=ON; } >"$BUILD/static-build.log" 2>&1 &&
           build "$BUILD_STATIC" >>"$BUILD/static-build.log" 2>&1; then
            STATIC_BIN=$BUILD_STATIC/supervisor
        else
            log "the static build failed (see $BUILD/static-build.log): static columns skipped"
        fi
    fi
else
    [ "${NO_STATIC:-}" != 1 ] && [ -x "$BUILD_STATIC/supervisor" ] && STATIC_BIN=$BUILD_STATIC/supervisor
fi
[ -x "$BUILD/supervisor" ] || die "no $BUILD/supervisor"

HELPERS=$BUILD/bench-bin
mkdir -p "$HELPERS"
for prog in launch stamp_first floor_init linewriter; do
    # Static: no dynamic loader between exec and the first stamp (and the
    # floor is as lean as a PID 1 gets). Rebuilt only when the source changed.
    [ "$HELPERS/$prog" -nt "$ROOT/bench/$prog.c" ] && continue
    cc -O2 -Wall -Wextra -static -o "$HELPERS/$prog" "$ROOT/bench/$prog.c" 2>/dev/null ||
        cc -O2 -Wall -Wextra -o "$HELPERS/$prog" "$ROOT/bench/$prog.c"
done
BUILT=$(( $(date +%s) - T0 ))
log "builds and installs took $BUILT s"
OUT=$BUILD/bench-results
if [ -n "$QUICK" ]; then
    # A few runs of each row, the tools the ratios need, smaller storm and
    # log: the ratios in about a minute.
    : "${ROUNDS_SPAWN:=20}" "${ROUNDS_FOOTPRINT:=1}" "${ROUNDS_FIFTY:=4}" "${ROUNDS_MANY:=2}"
    : "${ROUNDS_STORM:=2}" "${ORPHANS:=2000}" "${ROUNDS_LOG:=3}" "${LOG_BYTES:=268435456}"
    : "${TOOLS:=tini-static,dumb-init,catatonit,s6,runit,ours,ours-c,ours-static,ours-static-c,floor}"
    : "${BUDGET:=100}"
    OUT=$BUILD/bench-quick
fi
if [ -z "${BUDGET:-}" ]; then
    # The whole run stays under 10 minutes: the scenarios get what is left of
    # 9 minutes (the driver may overrun its budget by one run), 450 s at most.
    BUDGET=$(( 540 - BUILT - 30 ))
    [ "$BUDGET" -gt 450 ] && BUDGET=450
    [ "$BUDGET" -lt 120 ] && BUDGET=120
fi

# ---- scenarios --------------------------------------------------------------------

args=(--launch "$HELPERS/launch" --stamp "$HELPERS/stamp_first" --ours "$BUILD/supervisor"
      --floor "$HELPERS/floor_init" --linewriter "$HELPERS/linewriter"
      --budget "$BUDGET"
      --rounds-spawn "${ROUNDS_SPAWN:-50}" --rounds-footprint "${ROUNDS_FOOTPRINT:-3}"
      --rounds-fifty "${ROUNDS_FIFTY:-10}" --rounds-many "${ROUNDS_MANY:-3}"
      --many "${MANY:-500}" --rounds-storm "${ROUNDS_STORM:-3}"
      --orphans "${ORPHANS:-5000}" --rounds-log "${ROUNDS_LOG:-5}"
      --log-bytes "${LOG_BYTES:-1073741824}"
      --markdown "$OUT.md" --json "$OUT.json")
[ -n "$STATIC_BIN" ] && args+=(--ours-static "$STATIC_BIN")
[ -n "$QUICK" ] && args+=(--quick)
[ -n "${ONLY:-}" ] && args+=(--only "$ONLY")
[ -n "${TOOLS:-}" ] && args+=(--tools "$TOOLS")

# The driver keeps to BUDGET by itself; this is the guard behind it (SIGINT
# makes it kill its runs and print what it has).
rc=0
timeout -s INT -k 20 $(( BUDGET + 60 )) /usr/bin/python3 "$ROOT/bench/bench.py" "${args[@]}" || rc=$?

# Scenario 7 of issue 7, opt-in (minutes of its own, beyond the 10-minute
# bound): the health endpoint under load, with the same Release binary. (The
# log throughput is a scenario of bench.py now: ONLY=log.)
if [ "${EXTRA:-}" = 1 ] && [ -x "$ROOT/bench/health_load.sh" ]; then
    printf '\n### Health endpoint under load (bench/health_load.sh)\n\n'
    SUPERVISOR_BIN=$BUILD/supervisor timeout -k 10 600 "$ROOT/bench/health_load.sh" || log "health_load.sh failed"
fi
log "total $(( $(date +%s) - T0 )) s"
exit $rc
