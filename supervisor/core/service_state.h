// The states of a service, their names, and what each one means to the rest
// of the world: the one table that the state machine (service.cc), /status,
// /readyz, /metrics and `supervisor status` all read, so they cannot
// disagree (after dinit's service_state_t and stopped_reason_t).
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace sv {

enum class ServiceState {
    Pending,    // waiting for its dependencies (or never started: shutdown came first)
    Starting,   // spawned, not yet ready (a running oneshot stays here until it exits)
    Ready,      // exec succeeded and, if it has a ready probe, the probe passed
    Unhealthy,  // its health probe failed `failures` times in a row; being stopped to restart
    Stopping,   // stop signal sent, waiting for the process group to go
    Backoff,    // waiting `restart_delay` before the next run
    Completed,  // a oneshot that exited with a success status
    Exited,     // ended and will not be restarted
    Failed,     // could not start, not ready in time, too many restarts, dependency failed
    Stopped,    // stopped by request (`supervisor stop`): stays down until started again
};

// Every state, in lifecycle order (the order /metrics lists them in).
inline constexpr std::array kAllStates = {
    ServiceState::Pending,   ServiceState::Starting, ServiceState::Ready,
    ServiceState::Unhealthy, ServiceState::Stopping, ServiceState::Backoff,
    ServiceState::Completed, ServiceState::Exited,   ServiceState::Failed,
    ServiceState::Stopped,
};

// Why a service is Failed (or why it ended), as /status and the log render it.
enum class FailReason {
    None,
    SpawnFailed,       // fork/pipe failed
    ExecFailed,        // exec (or a set-up step before it) failed
    ReadyTimeout,      // not ready within start_timeout
    TooManyRestarts,   // max_restarts used up
    DependencyFailed,  // a dependency ended and can never become ready
    ExitedWithError,   // a oneshot that ended with a non-success status
};

// "pending", "starting", …: the names /status shows.
const char* state_name(ServiceState s);
std::optional<ServiceState> parse_state_name(std::string_view name);
const char* fail_reason_text(FailReason r);

// Ready for its dependents and for /readyz: a longrun that is ready, or a
// oneshot that completed (as Kubernetes counts a completed init container).
bool counts_as_ready(ServiceState s);

// Ended and will not run again on its own (Stopped is not: it waits for a
// request, and its dependents wait with it rather than fail).
bool is_final(ServiceState s);

// Fine as far as /readyz is concerned: ready, completed, or stopped by
// request (an operator's choice is no failure: `[+]NAME stopped by request`).
bool passes_readyz(ServiceState s);

}  // namespace sv
