#!/bin/sh
# Builds supervisor and runs the example stack in the foreground (Ctrl+C
# stops it gracefully, twice kills). Run as root on Debian 12.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPERVISOR_TESTS=OFF
cmake --build build -j2 --target supervisor_bin
exec ./build/supervisor run -c supervisor.toml.example
