#!/usr/bin/env bash
# What the control commands cost: `supervisor restart NAME` of one service
# among 50 (ready = exec succeeded, then with a tcp readiness probe) and
# `supervisor reload` of a 200-service file with one service changed.
#
#   bench/control.sh                                  # < 2 minutes; Markdown on stdout
#   SUPERVISOR_BIN=build-bench/supervisor ROUNDS=40 bench/control.sh
#
# The driver is bench/control.py. Everything runs in a temporary folder under
# build/ (control_socket there, health_listen = ""), so it never meets another
# supervisor on the machine; the folder is removed on exit. Progress goes to
# stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUPERVISOR_BIN=${SUPERVISOR_BIN:-$ROOT/build/supervisor}
STAMP_BIN=${STAMP_BIN:-$ROOT/build-bench/bench-bin/stamp_first}
PYTHON=${PYTHON:-/usr/bin/python3}
ROUNDS=${ROUNDS:-40}
ROUNDS_TCP=${ROUNDS_TCP:-20}
SERVICES=${SERVICES:-50}
RELOAD_SERVICES=${RELOAD_SERVICES:-200}
BUDGET=${BUDGET:-90}

log() { printf '%s\n' "$*" >&2; }
die() { log "control: $*"; exit 1; }

[ -x "$SUPERVISOR_BIN" ] || die "no supervisor binary at $SUPERVISOR_BIN (build it, or set SUPERVISOR_BIN)"
[ -x "$PYTHON" ] || die "no $PYTHON"
[ "$(id -u)" = 0 ] || log "control: not root; the numbers in docs/performance.md were taken as root"

mkdir -p "$ROOT/build"
WORK=$(mktemp -d "$ROOT/build/ctlbench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [ ! -x "$STAMP_BIN" ]; then
    # The service of bench/run.sh; linked statically when possible, so no
    # dynamic loader runs between its exec and its first stamp.
    STAMP_BIN=$WORK/stamp_first
    cc -O2 -Wall -Wextra -static -o "$STAMP_BIN" "$ROOT/bench/stamp_first.c" 2>/dev/null ||
        cc -O2 -Wall -Wextra -o "$STAMP_BIN" "$ROOT/bench/stamp_first.c" ||
        die "cannot compile bench/stamp_first.c"
fi

# The driver keeps to BUDGET by itself; this is the guard behind it (SIGINT
# makes it stop its supervisors and print what it has).
timeout -s INT -k 15 $(( ${BUDGET%.*} + 20 )) "$PYTHON" "$ROOT/bench/control.py" \
    --supervisor "$SUPERVISOR_BIN" --stamp "$STAMP_BIN" --python "$PYTHON" --work "$WORK" \
    --rounds "$ROUNDS" --rounds-tcp "$ROUNDS_TCP" --services "$SERVICES" \
    --reload-services "$RELOAD_SERVICES" --budget "$BUDGET" ${ONLY:+--only "$ONLY"} \
    ${JSON:+--json "$JSON"}
