// What the supervisor does with each signal it may receive: the one table
// behind the shell's watchers (os/shell.cc) and the core's reaction
// (Supervisor::on_signal). docs/lifecycle.md has it for users.
//
// Configuration mode:
//   TERM, INT                 graceful shutdown (a second INT kills at once)
//   PWR, RTMIN+3              graceful shutdown too: the stop signals of
//                             LXC/Incus and systemd-nspawn / machinectl
//   HUP QUIT USR1 USR2 WINCH  forwarded to every running service's group
//                             (HUP reloads the configuration instead with
//                             `sighup = "reload"`, as supervisord and nginx)
//   every other catchable one logged and ignored, never fatal to PID 1
// Single-command mode (`run -- COMMAND`, as tini):
//   TERM, INT                 stop the command with that very signal; a
//                             second one is forwarded like the first
//   PWR, RTMIN+3 as PID 1     graceful shutdown (the command's stop signal)
//   every other catchable one forwarded to the command's group
// Watched in both modes: every signal but KILL and STOP (they cannot be)
// and CHLD (the shell reaps on it). The signals are blocked and read from a
// signalfd, so none is ever fatal or lost: a real fault of our own (SEGV,
// BUS, ...) is still delivered by the kernel, which unblocks it to do so;
// our own EPIPE's SIGPIPE is recognised and dropped by the shell; and with
// TTIN/TTOU blocked the kernel lets our terminal writes through instead of
// stopping us. TSTP and CONT keep their defaults in configuration mode
// unless we are PID 1 (where a default action would make them vanish), so
// Ctrl+Z suspends a developer's `supervisor run` as it would any program.
#pragma once

#include <vector>

namespace sv {

enum class RunMode {
    Config,         // services from supervisor.toml
    SingleCommand,  // `run -- CMD`: one critical service, tini semantics
};

enum class SignalAction {
    Shutdown,  // begin the graceful shutdown
    Forward,   // send it on to the services' (or the command's) process groups
    Ignore,    // say so in the log, and do nothing
    Reload,    // re-read the configuration (SIGHUP with sighup = "reload")
};

SignalAction signal_action(int sig, RunMode mode, bool pid1, bool sighup_reloads = false);

// Every signal the shell watches in `mode`, in increasing order (SIGCHLD,
// which it watches for reaping, is not among them).
std::vector<int> watched_signals(RunMode mode, bool pid1);

}  // namespace sv
