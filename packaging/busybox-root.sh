#!/bin/sh
# packaging/busybox-root.sh ROOT BUSYBOX: the part of a minimal root that the
# container test (tests/container/run.sh) and the VM's initramfs
# (packaging/vm/build-initramfs.sh) share: a static busybox in ROOT/bin with
# its applet links, and /etc/passwd and /etc/group with root and nobody (so
# `user = "nobody"` resolves through the static binary's built-in files NSS).
set -eu
root=$1
busybox=$2
mkdir -p "$root/bin" "$root/etc"
cp "$busybox" "$root/bin/busybox"
# One process for the ~270 applet links (a fork each is slow here).
"$busybox" --list | perl -e '$d = shift; while (<STDIN>) { chomp; next if $_ eq "busybox";
    symlink("busybox", "$d/$_") or die "$_: $!\n" }' "$root/bin"
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
