// What "cannot happen" on the loop: an exception caught at the edge of a
// libev callback (out of memory, or a bug). No exception may cross into
// libev and the loop must go on, but nothing may fail silently either: each
// such catch calls oops(), which says at error level where it happened and
// what, and the callback then recovers (a probe schedules its next attempt,
// a connection is closed, a datagram is dropped).
#pragma once

#include "log.h"

namespace sv {

// The shell's logger (nullptr: straight to stderr). Set for the run.
void set_oops_logger(Logger* logger) noexcept;

// Call from inside a catch block: "internal error in WHERE: WHAT".
void oops(const char* where) noexcept;

}  // namespace sv
