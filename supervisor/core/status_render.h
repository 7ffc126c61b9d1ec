// Pure renderers of a status snapshot (docs/health.md): the /status JSON,
// the Prometheus text exposition for /metrics, the /readyz?verbose lines,
// and the table that `supervisor status` prints. No I/O: a Snapshot in,
// text out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "snapshot.h"

namespace sv {

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

}  // namespace sv
