// Sample status snapshots shared by the renderer tests (unit) and the
// /status reader tests (cli).
#pragma once

#include <csignal>
#include <string>

#include "snapshot.h"

namespace sv {
namespace {

inline ServiceSnapshot service(std::string name, std::string state, int pid, int restarts = 0) {
    ServiceSnapshot s;
    s.name = std::move(name);
    s.state = std::move(state);
    s.pid = pid;
    s.up = pid != 0;
    s.ready = s.state == "ready" || s.state == "completed";
    s.passes_readyz = s.ready || s.state == "stopped";
    s.restarts = restarts;
    return s;
}

inline Snapshot sample() {
    Snapshot s;
    s.state = "running";
    s.uptime_seconds = 125.9;
    s.reaped_total = 7;
    ServiceSnapshot db = service("db", "ready", 42);
    db.since_seconds = 12.7;
    ServiceSnapshot api = service("api", "backoff", 0, 2);
    api.last_exit = ExitStatus::exited(3);
    api.since_seconds = 1.2;
    ServiceSnapshot worker = service("worker", "exited", 0, 1);
    worker.last_exit = ExitStatus::killed(SIGTERM);
    worker.since_seconds = 3725;
    s.services = {db, api, worker};
    return s;
}

}  // namespace
}  // namespace sv
