// wait(2) statuses decoded once, at the edge: the core only ever sees the
// ExitStatus value (core/exit_status.h).
#pragma once

#include <sys/wait.h>

#include "exit_status.h"

namespace sv {

inline ExitStatus decode_wait_status(int wait_status) {
    if (WIFSIGNALED(wait_status)) return ExitStatus::killed(WTERMSIG(wait_status));
    if (WIFEXITED(wait_status)) return ExitStatus::exited(WEXITSTATUS(wait_status));
    // Stopped/continued statuses are never delivered for reaped children;
    // keep the raw value rather than inventing a meaning.
    return ExitStatus::exited(wait_status & 0xff);
}

}  // namespace sv
