// What the machine's init does with file systems, so that a VM's /init
// needs no shell script before its services: the kernel starts /init with
// only the initramfs (or the root disk) mounted, and at power-off nothing
// else will unmount anything.
//
// At start, mount_early_filesystems() mounts the API file systems every
// program expects, each only where nothing is mounted yet (the kernel may
// have mounted devtmpfs on /dev itself, a boot loader's initramfs may have
// moved its mounts over, a container engine has done it all):
//
//   /proc      proc       nosuid,nodev,noexec
//   /sys       sysfs      nosuid,nodev,noexec
//   /dev       devtmpfs   nosuid, mode=0755
//   /dev/pts   devpts     nosuid,noexec, mode=0620,gid=5 (tty), ptmxmode=0666
//   /dev/shm   tmpfs      nosuid,nodev, mode=1777
//   /run       tmpfs      nosuid,nodev, mode=0755
//
// A mount that fails is said on stderr and the boot goes on: a service
// that needs it will say more, and an init that stops here would leave a
// machine that does nothing at all.
//
// At power-off, unmount_for_power_off() makes what is on disk consistent:
// sync, detach every other mount in reverse order of mounting, remount /
// read-only, sync again; errors are ignored (a busy disk is still synced).
//
// Both act only for the machine's init (surely_machine_init(): PID 1 of the
// initial PID namespace). A container's PID 1 has its mounts from the
// engine, and its "/" may be a directory of the host's own root file
// system: remounting that read-only would take the host's root with it.
#pragma once

#include <string>

namespace sv {

// PID 1 of the initial PID namespace: the machine's init, not a container's
// or a PID namespace's. With /proc, the namespace's inode tells. Without
// /proc (a kernel-started /init before its first mount, but also a PID
// namespace's init that lacks /proc: `unshare -fpm sh -c 'umount -l /proc;
// exec supervisor run'`, a chroot), the kernel is asked instead: in the
// initial PID namespace PID 2 is always kthreadd, a kernel thread, whose
// process group is 0; a fresh namespace has no PID 2 yet, or a user process
// there.
bool surely_machine_init();

// As the machine's init: mounts the table above where nothing is mounted.
// Elsewhere: does nothing.
void mount_early_filesystems();

// As the machine's init, just before reboot(2): sync, detach every mount
// but / and the API file systems, remount / read-only, sync. Elsewhere: does
// nothing.
void unmount_for_power_off();

// Whether something is mounted on `path` (a directory): from
// /proc/self/mountinfo when /proc is there, else by comparing the device of
// `path` with that of its parent. Exposed for the tests.
bool is_mount_point(const std::string& path);

}  // namespace sv
