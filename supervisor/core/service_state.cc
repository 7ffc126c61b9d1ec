// The state table: see service_state.h.
#include "service_state.h"

namespace sv {

const char* state_name(ServiceState s) {
    switch (s) {
        case ServiceState::Pending:
            return "pending";
        case ServiceState::Starting:
            return "starting";
        case ServiceState::Ready:
            return "ready";
        case ServiceState::Unhealthy:
            return "unhealthy";
        case ServiceState::Stopping:
            return "stopping";
        case ServiceState::Backoff:
            return "backoff";
        case ServiceState::Completed:
            return "completed";
        case ServiceState::Exited:
            return "exited";
        case ServiceState::Failed:
            return "failed";
        case ServiceState::Stopped:
            return "stopped";
    }
    return "unknown";
}

std::optional<ServiceState> parse_state_name(std::string_view name) {
    for (ServiceState s : kAllStates)
        if (name == state_name(s)) return s;
    return std::nullopt;
}

const char* fail_reason_text(FailReason r) {
    switch (r) {
        case FailReason::None:
            return "";
        case FailReason::SpawnFailed:
            return "could not spawn";
        case FailReason::ExecFailed:
            return "could not execute";
        case FailReason::ReadyTimeout:
            return "not ready within start_timeout";
        case FailReason::TooManyRestarts:
            return "too many restarts";
        case FailReason::DependencyFailed:
            return "a dependency failed";
        case FailReason::ExitedWithError:
            return "exited with an error status";
    }
    return "";
}

bool counts_as_ready(ServiceState s) {
    return s == ServiceState::Ready || s == ServiceState::Completed;
}

bool passes_readyz(ServiceState s) {
    return counts_as_ready(s) || s == ServiceState::Stopped;
}

bool is_final(ServiceState s) {
    return s == ServiceState::Completed || s == ServiceState::Exited || s == ServiceState::Failed;
}

}  // namespace sv
