// The set of services and the whole run: start propagation in dependency
// order, requests (start, stop, restart, reload), shutdown in reverse
// order, the final sweep, and the exit code.
//
// Model (after dinit's service_set::process_queues): every event first
// updates one Service, then `propagate()` walks the set until nothing more
// changes: pending services whose dependencies are all satisfied start;
// pending services with a dependency that ended for good fail; requested
// stops are issued once the services that must go first are down; during
// shutdown, a service is told to stop once every one of its dependents is
// down; a critical service that ended for good begins the shutdown. No
// recursion: a plain loop over the services until a pass changes nothing.
//
// Requests (supervisor_requests.cc) keep a desired state beside the
// current one, as dinit does: `stop` takes a service and its running
// dependents down (dependents first) and they stay down (Stopped); `start`
// releases a service and whatever it needs that is down, and propagation
// starts them in dependency order; `restart` takes a service and its
// running dependents down, then releases them all together. A reload
// (supervisor_reload.cc) stops removed services, redefines and restarts
// changed ones, adds new ones, and leaves the others untouched.
//
// Phases of the run:
//   Starting -> Running (all ready/completed) -> Draining (SIGTERM; drain_delay)
//   -> Stopping (reverse dependency order) -> Sweeping (SIGTERM to every
//   process left, SIGKILL after the largest stop_grace) -> Done.
// shutdown_timeout caps Draining+Stopping+Sweeping; a second SIGINT jumps to
// SIGKILL of everything at once.
//
// Services are known to the OS layer by an id, stable across reloads and
// never reused; inside, they are kept in configuration order (those a
// reload removed follow until they are down).
//
// Time is owned here as deadlines: the shell asks next_deadline(), arms one
// timer, and calls on_time(now) when it fires.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
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

// What a reload changed, by name, in configuration order.
struct ReloadSummary {
    std::vector<std::string> added, removed, changed;
    std::size_t unchanged = 0;

    // "added: x; removed: y; restarted: z; unchanged: 3"
    std::string text() const;
};

class Supervisor {
  public:
    // `context`: the environment captured at start and what the OS layer
    // found out about each service (identities, notify sockets); empty in
    // unit tests. The services get ids 0..n-1 in configuration order.
    Supervisor(const Config& config, const Graph& graph, Sys& sys, Logger& log, RunMode mode,
               const RunContext& context = {});
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Start every service whose dependencies allow it.
    void start();

    // --- events from the shell ---
    // Many events at once (every child one SIGCHLD reaped, the exec
    // outcomes of one round of spawns): between begin_batch() and
    // end_batch() each event is applied to its service, and what follows
    // from all of them is worked out once, at end_batch(). One pass over the
    // services per batch instead of one per event.
    void begin_batch() { batching_ = true; }
    void end_batch();
    void on_exec_result(Pid pid, const ExecResult& result);
    // Any reaped child: a service's leader, or an orphan to count. `orphan`
    // false: one of our own helper processes (an exec probe), not an orphan.
    void on_child_exit(Pid pid, ExitStatus status, bool orphan = true);
    void on_probe_result(std::size_t id, ProbeRole role, bool ok, const std::string& detail);
    // A datagram on service `id`'s notify socket from one of its
    // processes: READY=1 and/or STATUS=… (`status` unset when absent).
    void on_notify(std::size_t id, bool ready, const std::optional<std::string>& status);
    void on_signal(int sig);
    void on_time(TimePoint now);
    std::optional<TimePoint> next_deadline() const;

    // --- requests (supervisor_requests.cc) ---
    // Each returns false with `error` set when it cannot be done at all
    // (shutting down; an unknown name); otherwise it is under way, and the
    // caller watches the services' states for the outcome.
    // The ids of `names` ("unknown service 'apii' (did you mean 'api'?)").
    bool find_services(const std::vector<std::string>& names, std::vector<std::size_t>& ids,
                       std::string& error) const;
    bool request_start(const std::vector<std::size_t>& ids, std::string& error);
    bool request_stop(const std::vector<std::size_t>& ids, std::string& error);
    bool request_restart(const std::vector<std::size_t>& ids, std::string& error);
    bool request_signal(const std::vector<std::size_t>& ids, int sig, std::string& error);
    // As SIGTERM.
    void request_shutdown(const std::string& who);

    // --- reload (supervisor_reload.cc) ---
    // Applies a new, valid configuration: see the essay above. `context`
    // belongs to `config` (parallel to its services). Refused (false) while
    // shutting down.
    bool reload(const Config& config, const RunContext& context, ReloadSummary& summary,
                std::string& error);

    // --- queries ---
    Phase phase() const { return phase_; }
    bool finished() const { return phase_ == Phase::Done; }
    bool shutting_down() const;
    // /readyz without building a snapshot: not shutting down and every
    // service ready (longrun), completed (oneshot) or stopped by request.
    bool all_ready() const;
    // The exit code (docs/lifecycle.md), computed in one place. Meaningful
    // once finished().
    int exit_code() const;
    Snapshot snapshot(TimePoint now) const;
    const Config& config() const { return config_; }
    const std::vector<Service>& services() const { return services_; }
    // The service with this id, or nullptr (gone after a reload).
    const Service* find_id(std::size_t id) const;
    const Service* find_name(std::string_view name) const;
    // The service whose leader is `pid`, or null.
    const Service* find_leader(Pid pid) const;
    unsigned long long reaped_total() const { return reaped_total_; }
    unsigned long long orphans_reaped() const { return orphans_reaped_; }
    // The largest stop_grace: how long the final sweep waits before SIGKILL.
    Duration sweep_grace() const;

  private:
    enum class Cause { None, Signal, Critical, AllEnded };

    // A stop that waits for others to be down first (requests, reload).
    struct PendingStop {
        std::size_t id;
        std::vector<std::size_t> after;  // ids that must be down first
        bool issued = false;
    };
    // Services taken down together to start again together (restart).
    struct Group {
        std::vector<std::size_t> ids;
    };
    // A service a reload changed: its new definition, applied once it is down.
    struct Redefinition {
        std::size_t id;
        ServiceConfig config;
        SpawnPlan plan;
    };

    void propagate(TimePoint now);
    bool process_requests(TimePoint now);  // one pass; true when something changed
    void on_stop_signal(int sig);
    void forward(int sig);
    void begin_shutdown(TimePoint now, Cause cause, std::size_t critical_id = 0);
    void enter_stopping(TimePoint now);
    void enter_sweeping(TimePoint now);
    void kill_everything(TimePoint now);
    void check_sweep_done();
    void report_progress(TimePoint now);
    Service* find_pid(Pid pid);
    Service* find_mut(std::size_t id);
    // Position of `id` in services_, or npos.
    std::size_t index_of(std::size_t id) const;
    // After services_ changed (construction, reload, removal): the id ->
    // position map, and every service's pid index.
    void reindex();
    // Ids of the services in the graph that depend on services_[i] (none
    // for one a reload removed).
    std::vector<std::size_t> dependent_ids(std::size_t i) const;
    std::vector<std::size_t> dependency_ids(std::size_t i) const;
    bool refuse_while_shutting_down(std::string& error) const;
    // `ids` and their running dependents, transitively (requests).
    std::vector<std::size_t> stop_closure(const std::vector<std::size_t>& ids) const;
    // A pending stop for each, after its dependents among them.
    void queue_stops(const std::vector<std::size_t>& set);

    Config config_;
    Graph graph_;
    Sys& sys_;
    Logger& log_;
    RunMode mode_;
    bool pid1_;
    std::vector<Service> services_;  // config order; removed ones after, until down
    std::size_t next_id_ = 0;
    bool batching_ = false;
    bool batch_changed_ = false;  // an event of the batch awaits propagate()
    std::unordered_map<std::size_t, std::size_t> positions_;  // id -> index in services_
    PidIndex pid_index_;

    std::vector<PendingStop> pending_stops_;
    std::vector<Group> groups_;
    std::vector<std::size_t> release_when_down_;
    std::vector<std::size_t> remove_when_down_;
    std::vector<Redefinition> redefinitions_;

    Phase phase_ = Phase::Starting;
    Cause cause_ = Cause::None;
    std::size_t critical_id_ = 0;
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
