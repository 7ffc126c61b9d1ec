#!/bin/bash
# Boots the static supervisor as /init of a VM (Debian's kernel under QEMU),
# twice, and checks on the serial console that it starts the services in
# order, reports them ready, and on a shutdown request from the host stops
# them in reverse order and powers the VM off cleanly:
#
#   1. `system_powerdown` on the QEMU monitor: the ACPI power button, which
#      reaches the supervisor as KEY_POWER on /dev/input/event* (as SIGTERM);
#   2. `sendkey ctrl-alt-delete`: the kernel sends PID 1 SIGINT, because the
#      supervisor called reboot(RB_DISABLE_CAD).
#
#   tests/vm/run.sh [PATH/TO/STATIC/supervisor] [WORKDIR]
#
# Defaults: build-static/supervisor, WORKDIR = <binary's dir>/vm, where the
# console logs stay (console-powerdown.log, console-ctrlaltdel.log and both
# in console.log). Needs root, qemu-system-x86 and linux-image-amd64
# (apt-get install -y --no-install-recommends qemu-system-x86 linux-image-amd64),
# busybox-static and cpio. Exit 77 (skipped) when QEMU or a kernel is missing.
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

accel=tcg
if [ "${VM_ACCEL:-auto}" != tcg ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then accel=kvm; fi

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

start_qemu() {  # accel
    local extra=()
    [ "$1" = kvm ] && extra=(-cpu host)
    rm -f "$log" "$sock"
    # -no-reboot: a reboot ends QEMU as a power-off does. panic=-1: a panic
    # reboots at once, so it ends QEMU too (and the console says so).
    timeout $((boot_timeout + stop_timeout + 30)) qemu-system-x86_64 \
        -nodefaults -display none -no-reboot -m 256 -smp 1 -accel "$1" "${extra[@]}" \
        -kernel "$kernel" -initrd "$work/initramfs.cpio.gz" \
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
    expect_order "mounts | STAMP mounts done" "supervisor: mounts: completed" \
        "db     | STAMP db start" "supervisor: db: ready" \
        "web    | STAMP web start uid=65534" "supervisor: web: ready"

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
    expect_order "$3" "supervisor: web: stopping" "web    | STAMP web stop" \
        "supervisor: web: exited with status 0" "supervisor: db: stopping" \
        "db     | STAMP db stop" "supervisor: db: exited with status 0" "reboot: Power down"
    echo "ok: $name ($accel): ready ${ready_s}s after QEMU started; '$2' -> services stopped" \
         "web then db, powered off ${stop_s}s later"
}

boot_and_stop powerdown system_powerdown "supervisor: power button pressed"
boot_and_stop ctrlaltdel "sendkey ctrl-alt-delete" "supervisor: received SIGINT"

cat "$work"/console-powerdown.log "$work"/console-ctrlaltdel.log > "$work/console.log"
echo "vm test passed in $(since "$t0")s; console logs in $work"
