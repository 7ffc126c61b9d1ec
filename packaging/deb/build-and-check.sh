#!/bin/bash
# Builds the Debian package (CPack, DEB generator), checks its contents,
# installs it, runs the installed `supervisor`, and removes it again.
#
#   packaging/deb/build-and-check.sh [BUILD_DIR]      (default: build-deb)
#
# SUPERVISOR_DEB_STATIC=1 packages the static binary instead (no Depends;
# user names then come from /etc/passwd only, see docs/deploy.md).
# SUPERVISOR_DEB_KEEP=1 leaves the package installed.
# Needs root, and what scripts/install-deps.sh installs (dpkg-shlibdeps comes
# with build-essential's dpkg-dev).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build-deb}
pkg=supervisor-init

die() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (dpkg -i)"
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    die "$pkg is already installed here; remove it first (dpkg -r $pkg)"
fi

static=OFF
[ "${SUPERVISOR_DEB_STATIC:-0}" = 1 ] && static=ON
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSUPERVISOR_TESTS=OFF \
    -DSUPERVISOR_STATIC=$static -DSUPERVISOR_CONTAINER_TEST=OFF \
    -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_DOCDIR=share/doc/$pkg >/dev/null
nice cmake --build "$build" -j2
rm -f "$build"/${pkg}_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/${pkg}_*.deb)
echo "built $deb ($(stat -c %s "$deb") bytes)"
dpkg-deb --field "$deb" Package Version Architecture Depends Installed-Size

contents=$(dpkg-deb --contents "$deb" | awk '{print $6}')
for f in ./usr/bin/supervisor ./usr/share/man/man8/supervisor.8.gz \
         ./usr/share/man/man5/supervisor.toml.5.gz \
         ./usr/share/doc/$pkg/supervisor.toml.example; do
    grep -qx -- "$f" <<<"$contents" || die "$deb lacks $f"
done

export DEBIAN_FRONTEND=noninteractive
# apt-get resolves the Depends (libev4 …) from Debian; dpkg -i would not.
apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
trap '[ "${SUPERVISOR_DEB_KEEP:-0}" = 1 ] || dpkg -r "$pkg" >/dev/null 2>&1 || true' EXIT

version=$(/usr/bin/supervisor --version)
echo "installed: $version"
[ "$version" = "supervisor $(dpkg-deb --field "$deb" Version)" ] || die "unexpected version '$version'"
/usr/bin/supervisor check -c /usr/share/doc/$pkg/supervisor.toml.example >/dev/null ||
    die "the installed example does not check"
if command -v man >/dev/null; then
    man -w 8 supervisor >/dev/null && man -w 5 supervisor.toml >/dev/null || die "man pages not found"
fi

if [ "${SUPERVISOR_DEB_KEEP:-0}" != 1 ]; then
    dpkg -r "$pkg" >/dev/null
    [ ! -e /usr/bin/supervisor ] || die "/usr/bin/supervisor still there after dpkg -r"
    echo "removed $pkg"
fi
echo "deb check passed"
