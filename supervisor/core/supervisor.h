// The set of services and the whole run: start propagation in dependency
// order, shutdown in reverse order, the final sweep, and the exit code.
//
// Model (after dinit's service_set::process_queues): every event first
// updates one Service, then `propagate()` walks the set until nothing more
// changes: pending services whose dependencies are all satisfied start;
// pending services with a dependency that ended for good fail; during
// shutdown, a service is told to stop once every one of its dependents is
// down; a critical service that ended for good begins the shutdown. No
// recursion: a plain loop over the services until a pass changes nothing.
//
// Phases of the run:
//   Starting -> Running (all ready/completed) -> Draining (SIGTERM; drain_delay)
//   -> Stopping (reverse dependency order) -> Sweeping (SIGTERM to every
//   process left, SIGKILL after the largest stop_grace) -> Done.
// shutdown_timeout caps Draining+Stopping+Sweeping; a second SIGINT jumps to
// SIGKILL of everything at once.
//
// Time is owned here as deadlines: the shell asks next_deadline(), arms one
// timer, and calls on_time(now) when it fires.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "exit_status.h"
#include "graph.h"
#include "log.h"
#include "service.h"
#include "signal_policy.h"
#include "snapshot.h"
#include "spawn_plan.h"
#include "sys.h"

namespace sv {

enum class Phase { Starting, Running, Draining, Stopping, Sweeping, Done };

class Supervisor {
  public:
    // `context`: the environment captured at start and what the OS layer
    // found out about each service (identities, notify sockets); empty in
    // unit tests.
    Supervisor(const Config& config, const Graph& graph, Sys& sys, Logger& log, RunMode mode,
               const RunContext& context = {});
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Start every service whose dependencies allow it.
    void start();

    // --- events from the shell ---
    void on_exec_result(Pid pid, const ExecResult& result);
    // Any reaped child: a service's leader, or an orphan to count. `orphan`
    // false: one of our own helper processes (an exec probe), not an orphan.
    void on_child_exit(Pid pid, ExitStatus status, bool orphan = true);
    void on_probe_result(std::size_t index, ProbeRole role, bool ok, const std::string& detail);
    // A datagram on service `index`'s notify socket from one of its
    // processes: READY=1 and/or STATUS=… (`status` unset when absent).
    void on_notify(std::size_t index, bool ready, const std::optional<std::string>& status);
    void on_signal(int sig);
    void on_time(TimePoint now);
    std::optional<TimePoint> next_deadline() const;

    // --- queries ---
    Phase phase() const { return phase_; }
    bool finished() const { return phase_ == Phase::Done; }
    bool shutting_down() const;
    // /readyz without building a snapshot: not shutting down and every
    // service ready (longrun) or completed (oneshot).
    bool all_ready() const;
    // The exit code (docs/lifecycle.md), computed in one place. Meaningful
    // once finished().
    int exit_code() const;
    Snapshot snapshot(TimePoint now) const;
    const std::vector<Service>& services() const { return services_; }
    unsigned long long reaped_total() const { return reaped_total_; }
    unsigned long long orphans_reaped() const { return orphans_reaped_; }
    // The largest stop_grace: how long the final sweep waits before SIGKILL.
    Duration sweep_grace() const;

  private:
    enum class Cause { None, Signal, Critical, AllEnded };

    void propagate(TimePoint now);
    void on_stop_signal(int sig);
    void forward(int sig);
    void begin_shutdown(TimePoint now, Cause cause, std::size_t critical_index = 0);
    void enter_stopping(TimePoint now);
    void enter_sweeping(TimePoint now);
    void kill_everything(TimePoint now);
    void check_sweep_done();
    void report_progress(TimePoint now);
    int find_by_pid(Pid pid) const;

    const Config& config_;
    const Graph& graph_;
    Sys& sys_;
    Logger& log_;
    RunMode mode_;
    bool pid1_;
    std::vector<Service> services_;

    Phase phase_ = Phase::Starting;
    Cause cause_ = Cause::None;
    std::size_t critical_index_ = 0;
    int stop_signal_override_ = 0;  // single-command mode: the signal we got
    bool killed_everything_ = false;
    TimePoint started_at_{};
    std::optional<TimePoint> drain_until_;
    std::optional<TimePoint> shutdown_deadline_;
    std::optional<TimePoint> sweep_kill_at_;
    std::optional<TimePoint> progress_at_;  // next "waiting for …" line during shutdown
    unsigned long long reaped_total_ = 0;
    unsigned long long orphans_reaped_ = 0;
};

}  // namespace sv
