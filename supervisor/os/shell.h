// The libev shell: the one place where the pure core meets the loop.
//
// One loop drives everything: one signalfd for the signals of
// core/signal_policy.h and SIGCHLD (every exited child is reaped per wake-up;
// each pid goes to the exec-probe map, then to Supervisor::on_child_exit,
// where an unknown pid is an orphan to count), one ev_timer armed at
// Supervisor::next_deadline(), one prepare watcher that tells the core how
// the execs of the last event went, the io watchers of the service output
// pipes, the notify sockets, the probes, the HTTP endpoint and the control
// socket. After every callback the timer is re-armed and the control
// socket's watchers are settled; when the core reaches Phase::Done the loop
// breaks. No callback lets an exception escape into libev.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "resource_limits.h"
#include "supervisor.h"

struct ev_loop;

namespace sv {

struct ShellOptions {
    RunMode mode = RunMode::Config;
    std::string config_path;                    // re-read by reload ("" in single-command mode)
    std::optional<std::string> health_listen;   // --health-listen: wins over the file, reloads too
    std::optional<LogFormat> log_format;        // --log-format, likewise
    std::optional<std::string> control_socket;  // --control-socket
    // The limits the supervisor was started with where it changed its own
    // (os/rlimits.h); services get them back.
    std::vector<Limit> inherited_limits;
};

// Runs `config` on `loop` until the core is done and returns the exit code
// (2 when the control socket is taken by a live supervisor). The signals
// the shell handles must be blocked by the caller (they stay pending until
// the watchers exist); they are unblocked here.
//
// The shell is never destroyed and the caller ends the process with
// _exit() (cli/main.cc): by the time this returns, everything the outside
// world sees is done (the socket file removed, probes stopped, output
// drained), and destructors plus exit handlers would only free the state
// allocation by allocation: about 50 µs of a PID 1's SIGTERM -> exit with one
// child (docs/performance.md).
int run_on_loop(struct ev_loop* loop, Config config, ShellOptions options);

// Blocks the signals the shell handles in `mode` (core/signal_policy.h, and
// CHLD): until the watchers exist they stay pending, neither lost nor fatal.
void block_handled_signals(RunMode mode);

}  // namespace sv
