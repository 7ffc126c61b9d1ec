// What being PID 1 (or a subreaper on a laptop) takes, outside the core:
// file descriptors 0-2 guaranteed open, PR_SET_CHILD_SUBREAPER when not PID 1,
// Ctrl-Alt-Del turned into SIGINT, a default PATH for a kernel-started init,
// the API file systems mounted for a VM's /init (mounts.h), and the final
// sync, unmount + reboot(2) for on_exit = poweroff | reboot.
//
// The machine's init (surely_machine_init(), mounts.h) must never exit:
// the kernel panics when PID 1 of the initial PID namespace ends. So a fatal
// error before the services run (an unreadable or invalid configuration)
// goes through init_fatal(), which says it on the console and powers the
// machine off after a pause long enough to read it.
#pragma once

#include <string>

#include "config.h"

namespace sv {

// Called once before anything is spawned. As the machine's init it first
// mounts /proc, /sys, /dev, /dev/pts, /dev/shm and /run where nothing is
// mounted (mount_early_filesystems()). What cannot be done is said on
// stderr and the run goes on (a subreaper is a convenience, not a need).
void prepare_process();

// As PID 1 with on_exit = poweroff|reboot: sync, and as the machine's init
// detach the other mounts and remount / read-only (unmount_for_power_off());
// then reboot(2); does not return when it worked. As the machine's init
// "exit" means poweroff (an init that exits makes the kernel panic).
// Anywhere else it does nothing (returns).
void final_power_action(OnExit action);

// sethostname(2), for the machine's init (a VM has no other program to
// name it; in a container the engine does, and this fails with EPERM).
// False after saying why on stderr
// ("supervisor: warning: cannot set the host name to 'x': Operation not permitted").
bool set_hostname(const std::string& name);

// A fatal error before the services run. As the machine's init: prints
// `message` and "supervisor: powering off in 10 seconds" on the console
// (stderr, or /dev/console when stderr is gone), waits 10 s, syncs and
// powers off; never returns, never exits. Anywhere else (a container's
// PID 1 included, whose engine reports the exit status): prints `message`
// on stderr and exits with status 2.
[[noreturn]] void init_fatal(const std::string& message);

}  // namespace sv
