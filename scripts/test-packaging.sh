#!/bin/sh
# Packaging tests (issue: the three ways users run it). Run as root on
# Debian 12: builds the fully static binary, runs it as PID 1 of a container
# (a busybox chroot in fresh PID and mount namespaces, then the ENTRYPOINT of
# podman containers: stop, HUP, orphans, HEALTHCHECK, run -it) and as /init
# of a QEMU VM with Debian's kernel (mounts, power button, Ctrl-Alt-Del, a
# broken configuration), then builds, installs, runs and removes the .deb.
# Console logs: build-static/tests/vm/.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --packaging
cmake -S . -B build-static -DSUPERVISOR_STATIC=ON -DSUPERVISOR_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=MinSizeRel -DSUPERVISOR_CONTAINER_TEST=ON -DSUPERVISOR_VM_TEST=ON
cmake --build build-static -j2
ctest --test-dir build-static --output-on-failure
packaging/deb/build-and-check.sh
