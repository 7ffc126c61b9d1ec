// A plain picture of the running supervisor at one instant: what /status,
// /metrics, /readyz?verbose and `supervisor status` are rendered from
// (status_render.h). It never carries environment variables or command
// lines, so no renderer can leak them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "exit_status.h"

namespace sv {

struct ServiceSnapshot {
    std::string name;
    std::string state;   // a state name (service_state.h): pending, starting, ready, …
    int pid = 0;         // 0: none (rendered as null)
    bool ready = false;  // counts_as_ready(state): ready, or a completed oneshot
    // passes_readyz(state): also when stopped by request (`[+]NAME stopped by request`).
    bool passes_readyz = false;
    bool up = false;  // a process is running
    unsigned long long restarts = 0;
    std::optional<ExitStatus> last_exit;
    double since_seconds = 0;  // time in the current state
    std::string status_text;   // sd_notify STATUS=, may be empty
    std::string reason;        // why it failed, may be empty
};

struct Snapshot {
    std::string state;  // starting | running | stopping
    double uptime_seconds = 0;
    bool shutting_down = false;
    unsigned long long reaped_total = 0;  // every child reaped, services' and orphans'
    std::vector<ServiceSnapshot> services;

    // /readyz and /healthz: not shutting down and every service ready (or
    // completed, or stopped by request).
    bool all_ready() const;
};

}  // namespace sv
