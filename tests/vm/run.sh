#!/bin/bash
# Boots the static supervisor as /init of a VM (Debian's kernel under QEMU),
# three times. Twice with packaging/vm/supervisor.toml, checking on the
# serial console that the first service already sees /proc, /sys, /dev,
# /dev/pts, /dev/shm and /run mounted (the supervisor mounts them; no shell
# does), that the services start in order and report ready, and that on a
# shutdown request from the host they stop in reverse order and the VM
# powers off cleanly:
#
#   1. `system_powerdown` on the QEMU monitor: the ACPI power button, which
#      reaches the supervisor as KEY_POWER on /dev/input/event* (as SIGTERM);
#   2. `sendkey ctrl-alt-delete`: the kernel sends PID 1 SIGINT, because the
#      supervisor called reboot(RB_DISABLE_CAD).
#
# The third boot has a broken configuration (a second cpio archive appended
# to the initramfs replaces /etc/supervisor/supervisor.toml): an init must
# not exit, so the supervisor prints the error on the console, says it
# powers off in 10 seconds, and does; QEMU exits by itself, no kernel panic.
#
#   tests/vm/run.sh [PATH/TO/STATIC/supervisor] [WORKDIR]
#
# Defaults: build-static/supervisor, WORKDIR = <binary's dir>/vm, where the
# console logs stay (console-powerdown.log, console-ctrlaltdel.log,
# console-broken.log, and all three in console.log). Needs root,
# qemu-system-x86 and linux-image-amd64 (apt-get install -y
# --no-install-recommends qemu-system-x86 linux-image-amd64), busybox-static
# and cpio. Exit 77 (skipped) when QEMU or a kernel is missing.
# KVM is used when /dev/kvm works (VM_ACCEL=tcg forces emulation); the stock
# kernel under plain emulation boots in about 10 s. Every wait is bounded.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$(realpath "${1:-$repo/build-static/supervisor}")
work=${2:-$(dirname "$bin")/vm}
boot_timeout=${VM_BOOT_TIMEOUT:-90}   # seconds from QEMU start to "web: ready"
stop_timeout=${VM_STOP_TIMEOUT:-60}   # seconds from the request to QEMU's exit
t0=$(date +%s.%N)

skip() { echo "SKIP: $*" >&2; exit 77; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || skip "needs root (mknod for the initramfs)"
command -v qemu-system-x86_64 >/dev/null ||
    skip "no qemu-system-x86_64 (apt-get install -y --no-install-recommends qemu-system-x86)"
kernel=${VM_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)}
[ -n "$kernel" ] && [ -r "$kernel" ] ||
    skip "no kernel in /boot (apt-get install -y --no-install-recommends linux-image-amd64)"
kver=${kernel#/boot/vmlinuz-}

mkdir -p "$work"
rm -f "$work"/console*.log "$work"/*.sock
"$repo/packaging/vm/build-initramfs.sh" -s "$bin" -k "$kver" -o "$work/initramfs.cpio.gz"

# KVM when /dev/kvm is there and a kernel boots under it: a nested or
# restricted KVM may abort QEMU at once (an MSR it refuses) or run a guest
# that never prints. The kernel alone, without "quiet", prints its banner on
# the serial console within a second under working KVM; 10 s of nothing
# means emulation.
kvm_works() (
    local probe_log=$work/kvm-probe.log rc=0
    rm -f "$probe_log"
    timeout 10 qemu-system-x86_64 -nodefaults -display none -no-reboot -m 256 -smp 1 \
        -accel kvm -cpu host -kernel "$kernel" -append "console=ttyS0 panic=-1" \
        -serial "file:$probe_log" </dev/null >"$work/kvm-probe.out" 2>&1 &
    local pid=$! deadline=$((SECONDS + 10))
    while [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do
        grep -q "Linux version" "$probe_log" 2>/dev/null && break
        sleep 0.1
    done
    grep -q "Linux version" "$probe_log" 2>/dev/null || rc=1
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return $rc
)

accel=tcg
if [ "${VM_ACCEL:-auto}" != tcg ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    # (stderr off: bash's own "Aborted" notice for a QEMU that crashed)
    if kvm_works 2>/dev/null; then
        accel=kvm
    else
        echo "KVM does not boot a kernel here ($(head -n 1 "$work/kvm-probe.out" 2>/dev/null ||
            true)): using emulation (tcg)" >&2
    fi
fi

qpid=
cleanup() {
    if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then kill -KILL "$qpid" 2>/dev/null || true; fi
}
trap cleanup EXIT

# The console without colour codes and carriage returns.
console() { sed -e 's/\x1b\[[0-9;]*m//g' -e 's/\r$//' "$log" 2>/dev/null; }

fail() {
    echo "FAIL ($name): $*" >&2
    [ -f "${log:-}" ] && { echo "--- $log" >&2; console | tail -n 60 >&2; }
    exit 1
}

# Prints the lines of the console matching each pattern, in turn, and fails
# unless they appear in this order.
expect_order() {
    local prev=0 n p
    for p in "$@"; do
        n=$(console | grep -n -m1 -F -- "$p" | cut -d: -f1 || true)
        [ -n "$n" ] || fail "console lacks '$p'"
        [ "$n" -gt "$prev" ] || fail "'$p' (line $n) came before the previous step (line $prev)"
        prev=$n
    done
}

monitor() {  # command
    perl -MIO::Socket::UNIX -e '
        my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "monitor: $!\n";
        print $s "$ARGV[1]\n"; select(undef, undef, undef, 0.2);' "$sock" "$1"
}

start_qemu() {  # accel [initramfs]
    local initrd=${2:-$work/initramfs.cpio.gz}
    local extra=()
    [ "$1" = kvm ] && extra=(-cpu host)
    rm -f "$log" "$sock"
    # -no-reboot: a reboot ends QEMU as a power-off does. panic=-1: a panic
    # reboots at once, so it ends QEMU too (and the console says so).
    timeout $((boot_timeout + stop_timeout + 30)) qemu-system-x86_64 \
        -nodefaults -display none -no-reboot -m 256 -smp 1 -accel "$1" "${extra[@]}" \
        -kernel "$kernel" -initrd "$initrd" \
        -append "console=ttyS0 quiet panic=-1" \
        -serial "file:$log" -monitor "unix:$sock,server,nowait" \
        </dev/null >"$work/qemu-$name.out" 2>&1 &
    qpid=$!
}

boot_and_stop() {  # name, monitor command, what the supervisor logs for it
    name=$1
    log=$work/console-$name.log
    sock=$work/monitor-$name.sock
    local started ready_s deadline
    started=$(now)
    start_qemu "$accel"
    deadline=$((SECONDS + boot_timeout))
    while ! console | grep -q "supervisor: web: ready"; do
        kill -0 "$qpid" 2>/dev/null || fail "QEMU exited before the services were ready"
        console | grep -q "STAMP mounts missing" &&
            fail "$(console | grep -m1 "STAMP mounts missing")"
        if [ "$accel" = kvm ] && [ $((SECONDS + boot_timeout - deadline)) -ge 30 ] && [ ! -s "$log" ]; then
            echo "KVM shows no console output after 30 s: falling back to emulation (tcg)" >&2
            kill -KILL "$qpid"; wait "$qpid" 2>/dev/null || true
            accel=tcg
            started=$(now)
            start_qemu tcg
            deadline=$((SECONDS + boot_timeout))
        fi
        [ $SECONDS -lt $deadline ] || fail "services not ready within ${boot_timeout}s"
        sleep 0.2
    done
    ready_s=$(since "$started")
    expect_order "setup | STAMP mounts seen: /proc /sys /dev /dev/pts /dev/shm /run" \
        "setup | STAMP setup done" "supervisor: setup: completed" \
        "db    | STAMP db start" "supervisor: db: ready" \
        "web   | STAMP web start uid=65534" "supervisor: web: ready"

    local asked
    asked=$(now)
    monitor "$2" || fail "cannot talk to the QEMU monitor"
    deadline=$((SECONDS + stop_timeout))
    while kill -0 "$qpid" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || fail "VM still running ${stop_timeout}s after '$2'"
        sleep 0.2
    done
    local rc=0
    wait "$qpid" || rc=$?
    qpid=
    local stop_s
    stop_s=$(since "$asked")
    [ "$rc" = 0 ] || fail "QEMU exited with $rc (124: timeout)"
    console | grep -q "Kernel panic" && fail "kernel panic on the console"
    expect_order "$3" "supervisor: web: stopping" "web   | STAMP web stop" \
        "supervisor: web: exited with status 0" "supervisor: db: stopping" \
        "db    | STAMP db stop" "supervisor: db: exited with status 0" "reboot: Power down"
    echo "ok: $name ($accel): ready ${ready_s}s after QEMU started; '$2' -> services stopped" \
         "web then db, powered off ${stop_s}s later"
}

# A configuration the loader refuses, as the third boot's
# /etc/supervisor/supervisor.toml: the kernel unpacks concatenated cpio
# archives in turn, and a later file replaces an earlier one.
broken_initramfs() {
    local dir=$work/broken-root
    rm -rf "$dir"
    mkdir -p "$dir/etc/supervisor"
    printf '%s\n' '[supervisor]' 'on_exit = "poweroff"' '' '[services.web]' \
        'comand = ["httpd", "-f", "-p", "8080"]' > "$dir/etc/supervisor/supervisor.toml"
    local files='etc\netc/supervisor\netc/supervisor/supervisor.toml\n'
    if cpio --version 2>/dev/null | grep -q GNU; then
        (cd "$dir" && printf "$files" | cpio --create --format=newc --owner=0:0 --quiet)
    else
        (cd "$dir" && printf "$files" | busybox cpio -o -H newc)
    fi | gzip -9n > "$work/broken.cpio.gz"
    cat "$work/initramfs.cpio.gz" "$work/broken.cpio.gz" > "$work/initramfs-broken.cpio.gz"
    rm -rf "$dir"
}

# The broken configuration: the error on the console, then a power-off
# after the supervisor's 10 s pause, with no request from the host.
boot_broken() {
    name=broken
    log=$work/console-$name.log
    sock=$work/monitor-$name.sock
    local started said_at deadline
    broken_initramfs
    started=$(now)
    start_qemu "$accel" "$work/initramfs-broken.cpio.gz"
    deadline=$((SECONDS + boot_timeout + stop_timeout))
    while ! console | grep -q "supervisor: powering off in 10 seconds"; do
        kill -0 "$qpid" 2>/dev/null || break
        [ $SECONDS -lt $deadline ] ||
            fail "no 'powering off' on the console within $((boot_timeout + stop_timeout))s"
        sleep 0.2
    done
    said_at=$(now)
    while kill -0 "$qpid" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || fail "VM still running after the configuration error"
        sleep 0.2
    done
    local rc=0
    wait "$qpid" || rc=$?
    qpid=
    local pause_s
    pause_s=$(since "$said_at")
    console | grep -q "Kernel panic" && fail "kernel panic on the console (the init exited)"
    [ "$rc" = 0 ] || fail "QEMU exited with $rc (124: timeout)"
    expect_order "/etc/supervisor/supervisor.toml:5:1: unknown key 'comand' in [services.web]" \
        "supervisor: powering off in 10 seconds" "reboot: Power down"
    console | grep -q "STAMP" && fail "a service ran with a broken configuration"
    awk -v p="$pause_s" 'BEGIN { exit !(p >= 8) }' ||
        fail "powered off ${pause_s}s after saying so, expected about 10 s"
    echo "ok: $name ($accel): configuration error on the console, powered off ${pause_s}s" \
         "later by itself ($(since "$started")s after QEMU started), no kernel panic"
}

boot_and_stop powerdown system_powerdown "supervisor: power button pressed"
boot_and_stop ctrlaltdel "sendkey ctrl-alt-delete" "supervisor: received SIGINT"
boot_broken

cat "$work"/console-powerdown.log "$work"/console-ctrlaltdel.log "$work"/console-broken.log \
    > "$work/console.log"
echo "vm test passed in $(since "$t0")s; console logs in $work"
