#!/bin/bash
# Builds an initramfs (cpio newc, gzip) in which the static supervisor is
# /init: boot any kernel with it and the supervisor is PID 1 of the VM.
#
#   packaging/vm/build-initramfs.sh [-s SUPERVISOR] [-c CONFIG] [-k KERNEL_VERSION] [-o OUT]
#
#   -s  static supervisor binary        (default: build-static/supervisor)
#   -c  configuration for /etc/supervisor/supervisor.toml
#                                       (default: packaging/vm/supervisor.toml)
#   -k  kernel version whose evdev and button modules go in
#                                       (default: the newest /boot/vmlinuz-*)
#   -o  output file                     (default: build-static/vm/initramfs.cpio.gz)
#
# Contents: /init (the supervisor), /bin/busybox with its applet links
# (Debian's busybox-static), /etc/passwd and /etc/group (root, nobody),
# /dev/console and /dev/null (the kernel gives /init the console as fds 0-2
# before anything is mounted; the supervisor then mounts devtmpfs on /dev,
# and /proc, /sys, /dev/pts, /dev/shm, /run itself),
# /lib/modules/{evdev,button}.ko (decompressed; PID 1 has no modprobe), /srv/www.
# Needs root (mknod) or fakeroot, GNU cpio or busybox, gzip.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
supervisor=$repo/build-static/supervisor
config=$repo/packaging/vm/supervisor.toml
kver=
out=
while getopts "s:c:k:o:h" opt; do
    case $opt in
        s) supervisor=$OPTARG ;;
        c) config=$OPTARG ;;
        k) kver=$OPTARG ;;
        o) out=$OPTARG ;;
        *) sed -n '2,20p' "$0"; exit 2 ;;
    esac
done
out=${out:-$(dirname "$supervisor")/vm/initramfs.cpio.gz}

die() { echo "build-initramfs: $*" >&2; exit 1; }
[ -x "$supervisor" ] || die "no supervisor at $supervisor (cmake -DSUPERVISOR_STATIC=ON)"
ldd "$supervisor" >/dev/null 2>&1 && die "$supervisor is dynamically linked; /init must be static"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 \
    || die "needs a static busybox (apt-get install busybox-static)"
"$supervisor" check -c "$config" >/dev/null || die "$config does not check"
if [ -z "$kver" ]; then
    kernel=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
    kver=${kernel#/boot/vmlinuz-}
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,etc/supervisor,lib/modules,proc,sys,run,tmp,root,srv/www}
chmod 1777 "$root/tmp"
cp "$supervisor" "$root/init"
command -v strip >/dev/null && strip "$root/init"
cp "$config" "$root/etc/supervisor/supervisor.toml"
"$repo/packaging/busybox-root.sh" "$root" "$busybox"
ln -s bin "$root/sbin"
mkdir -p "$root/usr"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"
echo ok > "$root/srv/www/index.html"
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3

# The power button reaches user space as KEY_POWER on /dev/input/eventN only
# with both drivers: button (ACPI -> input device) and evdev (/dev/input/event*).
# Debian builds both as modules; PID 1 has no modprobe, so they go in
# decompressed and the first oneshot (setup) insmods them in this order.
modules=
for name in drivers/input/evdev drivers/acpi/button; do
    module=
    for m in /lib/modules/"$kver"/kernel/$name.ko{,.xz,.zst,.gz}; do
        [ -f "$m" ] && { module=$m; break; }
    done
    dest=$root/lib/modules/$(basename "$name").ko
    case $module in
        "") echo "build-initramfs: warning: no $(basename "$name").ko for kernel '$kver'" \
                 "(built in, or the power button will not work; Ctrl-Alt-Del still does)" >&2 ;;
        *.xz) xz -dc "$module" > "$dest" ;;
        *.zst) zstd -qdc "$module" > "$dest" ;;
        *.gz) gzip -dc "$module" > "$dest" ;;
        *) cp "$module" "$dest" ;;
    esac
    [ -n "$module" ] && modules="$modules $(basename "$dest")"
done

mkdir -p "$(dirname "$out")"
tmp_out=$out.tmp
if command -v cpio >/dev/null && cpio --version 2>/dev/null | grep -q GNU; then
    (cd "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
        cpio --null --create --format=newc --owner=0:0 --reproducible --quiet) |
        gzip -9n > "$tmp_out"
else
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc) |
        gzip -9n > "$tmp_out"
fi
mv "$tmp_out" "$out"
echo "$out ($(stat -c %s "$out") bytes; modules from $kver:${modules:- none})"
