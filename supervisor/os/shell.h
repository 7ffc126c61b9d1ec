// The libev shell: the one place where the pure core meets the loop.
//
// One default loop drives everything: signal watchers (the signals of
// core/signal_policy.h), one ev_child on pid 0 (libev reaps every child; each pid
// goes to the exec-probe map, then to Supervisor::on_child_exit, where an
// unknown pid is an orphan to count), one ev_timer armed at
// Supervisor::next_deadline(), the io watchers of the exec-status pipes, the
// service output pipes, the notify sockets, the probes and the HTTP
// endpoint. After every callback the timer is re-armed; when the core
// reaches Phase::Done the loop breaks. No callback lets an exception escape
// into libev.
#pragma once

#include <vector>

#include "config.h"
#include "resource_limits.h"
#include "supervisor.h"

struct ev_loop;

namespace sv {

// Runs `config` on `loop` until the core is done and returns the exit code.
// The signals the shell handles must be blocked by the caller (they stay
// pending until the watchers exist); they are unblocked here.
// `inherited_limits`: the limits the supervisor was started with where it
// changed its own (os/rlimits.h); services get them back.
int run_on_loop(struct ev_loop* loop, Config config, RunMode mode,
                std::vector<Limit> inherited_limits);

// Blocks the signals the shell handles in `mode` (core/signal_policy.h, and
// CHLD): until the watchers exist they stay pending, neither lost nor fatal.
void block_handled_signals(RunMode mode);

}  // namespace sv
