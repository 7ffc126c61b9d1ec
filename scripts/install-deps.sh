#!/bin/sh
# Installs what building (and, with --test, testing) supervisor needs on
# Debian 12, from Debian's packages only. Run as root.
set -eu
packages="build-essential cmake libev-dev libtomlplusplus-dev libc-ares-dev"
if [ "${1:-}" = "--packaging" ]; then
    # The container tests' busybox root and podman (with runc: crun refuses
    # hybrid cgroup hierarchies; python3 drives `podman run -it` through a
    # pseudo-terminal), the VM test's initramfs, kernel and QEMU, and
    # dpkg-dev for the .deb (in build-essential).
    packages="$packages busybox-static cpio qemu-system-x86 linux-image-amd64 curl \
        podman runc uidmap slirp4netns fuse-overlayfs containernetworking-plugins python3"
fi
if [ "${1:-}" = "--test" ]; then
    # GoogleTest for the unit tests; pytest, util-linux (unshare) and procps for
    # the integration tests; the Prometheus client's text parser checks
    # /metrics; clang builds the libFuzzer target; clang-format checks the style.
    packages="$packages libgtest-dev libgmock-dev python3 python3-pytest \
        python3-prometheus-client util-linux procps psmisc curl clang clang-format"
fi
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi
