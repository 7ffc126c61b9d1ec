// What being PID 1 (or a subreaper on a laptop) takes, outside the core:
// file descriptors 0-2 guaranteed open, PR_SET_CHILD_SUBREAPER when not PID 1,
// Ctrl-Alt-Del turned into SIGINT, a default PATH for a kernel-started init,
// and the final sync + reboot(2) for on_exit = poweroff | reboot.
#pragma once

#include "config.h"

namespace sv {

// Called once before anything is spawned. What cannot be done is said on
// stderr and the run goes on (a subreaper is a convenience, not a need).
void prepare_process();

// As PID 1 with on_exit = poweroff|reboot: sync and reboot(2); does not
// return when it worked. Anywhere else it does nothing (returns).
void final_power_action(OnExit action);

}  // namespace sv
