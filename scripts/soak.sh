#!/bin/sh
# Soak test under chaos: 50 services, SIGKILL/SIGSTOP chaos, log floods,
# abandoned HTTP connections and an EMFILE phase, sampled every second.
# Usage: scripts/soak.sh [--minutes N] [--pid1] [--report FILE] [--keep]   (default 2 minutes)
# Needs root (PID namespaces with --pid1) and build/supervisor
# (cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build --target supervisor_bin).
# The driver and what it checks: tests/soak/soak.py.
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 tests/soak/soak.py "$@"
