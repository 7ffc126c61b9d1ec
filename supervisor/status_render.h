// Pure renderers of a status snapshot (SPEC §5): the /status JSON, the
// Prometheus text exposition for /metrics, the /readyz?verbose lines, and the
// table that `supervisor status` prints. No I/O: a Snapshot in, text out.
// They never see environment variables or command lines: the snapshot does
// not carry them.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "exit_status.h"

namespace sv {

struct ServiceSnapshot {
    std::string name;
    std::string state;  // SPEC §2 state name: pending, starting, ready, …
    pid_t pid = 0;      // 0: none (rendered as null)
    bool ready = false;
    bool up = false;  // a process is running
    int restarts = 0;
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

    // /readyz and /healthz: not shutting down and every service ready or completed.
    bool all_ready() const;
};

// /status body: {"state": …, "uptime_seconds": N, "services": [ … ]}
std::string render_status_json(const Snapshot& s);

// /metrics body, Prometheus text format 0.0.4.
std::string render_metrics(const Snapshot& s);

// /readyz?verbose body: "[+]db ok\n[-]api not ready: starting\n…" then a
// last line "readyz check passed" or "readyz check failed" (as Kubernetes' apiserver).
std::string render_ready_verbose(const Snapshot& s, const std::string& endpoint = "readyz");

// `supervisor status` table: NAME STATE PID READY RESTARTS UPTIME LAST EXIT,
// from a Snapshot parsed back from /status JSON.
std::string render_status_table(const Snapshot& s);

// Parses the /status JSON back into a Snapshot (for `supervisor status`).
// Returns nullopt on malformed input.
std::optional<Snapshot> parse_status_json(const std::string& json);

}  // namespace sv
