// The signal table: see signal_policy.h.
#include "signal_policy.h"

#include <csignal>

namespace sv {

namespace {

bool never_caught(int sig) {
    return sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD;
}

bool manager_stop(int sig) {
    return sig == SIGPWR || sig == SIGRTMIN + 3;
}

}  // namespace

SignalAction signal_action(int sig, RunMode mode, bool pid1, bool sighup_reloads) {
    if (sig == SIGTERM || sig == SIGINT) return SignalAction::Shutdown;
    if (sig == SIGHUP && mode == RunMode::Config && sighup_reloads) return SignalAction::Reload;
    if (mode == RunMode::SingleCommand)
        return manager_stop(sig) && pid1 ? SignalAction::Shutdown : SignalAction::Forward;
    if (manager_stop(sig)) return SignalAction::Shutdown;
    switch (sig) {
        case SIGHUP:
        case SIGQUIT:
        case SIGUSR1:
        case SIGUSR2:
        case SIGWINCH:
            return SignalAction::Forward;
        default:
            return SignalAction::Ignore;
    }
}

std::vector<int> watched_signals(RunMode mode, bool pid1) {
    std::vector<int> out;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (never_caught(sig)) continue;
        // glibc keeps the first two real-time signals for its threads.
        if (sig > SIGSYS && sig < SIGRTMIN) continue;
        if (mode == RunMode::Config && !pid1 && (sig == SIGTSTP || sig == SIGCONT)) continue;
        out.push_back(sig);
    }
    return out;
}

}  // namespace sv
