// The libev shell: the one place where the pure core meets the loop.
//
// One default loop drives everything: signal watchers (TERM INT HUP QUIT
// USR1 USR2 WINCH), one ev_child on pid 0 (libev reaps every child; each pid
// goes to the exec-probe map, then to Supervisor::on_child_exit, where an
// unknown pid is an orphan to count), one ev_timer armed at
// Supervisor::next_deadline(), the io watchers of the exec-status pipes, the
// service output pipes, the probes and the HTTP endpoint. After every
// callback the timer is re-armed; when the core reaches Phase::Done the loop
// breaks. No callback lets an exception escape into libev.
#pragma once

#include "cli.h"

namespace sv {

// `supervisor run`: config mode or single-command mode. Returns the exit
// code (SPEC §4); as PID 1 with on_exit = poweroff|reboot it does not return.
int run_command(const CliOptions& opts);

}  // namespace sv
