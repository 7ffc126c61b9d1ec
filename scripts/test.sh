#!/bin/sh
# Builds everything and runs every test (unit + integration). Run as root on
# Debian 12: the integration tests run the binary as PID 1 of fresh PID
# namespaces (unshare -fp --mount-proc).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPERVISOR_WERROR=ON -DSUPERVISOR_TESTS=ON
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2
