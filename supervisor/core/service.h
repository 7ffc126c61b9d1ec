// One service's lifecycle as an explicit state machine (after dinit's
// service_state_t / desired_state, and s6-supervise's one-method-per-event).
//
// The current state is what /status shows (service_state.h). Beside it the service
// keeps a desired state (Up while the supervisor runs, Down once shutdown has
// reached it) and, while a stop is in flight, what happens when the process is
// gone (`after_stop_`: end, restart under the policy, or fail).
//
//   Pending --start()--> Starting --exec ok, no probe / probe ok / READY=1--> Ready
//   Starting --exec failed--> Failed
//   Starting --start_timeout--> Stopping(after: fail) --exit--> Failed
//   Ready --health failures--> Unhealthy (stop signal sent) --exit--> Backoff | Exited | Failed
//   Ready/Starting --exit--> Backoff (restart policy) | Exited | Completed (oneshot, success)
//                            | Failed
//   Backoff --delay--> Starting
//   any running --stop()--> Stopping --exit--> Exited   (SIGKILL of the group after stop_grace)
//   Ready/Starting --exit, group not empty--> Stopping (the leftovers get the
//                            stop signal, SIGKILL after the grace) --group empty-->
//                            as for an exit: Backoff | Exited | Completed | Failed
//
// Readiness by notify needs no probe: READY=1 from the service's processes
// arrives as on_notify_ready(). It may come before the exec result (a fast
// service): the service remembers it for the current run and becomes ready
// as soon as the exec is known to have succeeded.
//
// Every event is one method that switches on the current state; impossible
// combinations log "can't happen" instead of asserting. The service acts on
// the world only through Sys and reports through Logger; it owns its
// deadlines (start timeout, stop grace, back-off) and exposes the nearest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "config.h"
#include "duration.h"
#include "exit_status.h"
#include "log.h"
#include "service_state.h"
#include "spawn_plan.h"
#include "sys.h"

namespace sv {

// pid -> service id of every leader alive: the services keep it up to date
// as they spawn and reap, so an exit finds its service without a walk.
using PidIndex = std::unordered_map<Pid, std::size_t>;

class Service {
  public:
    // `id`: how the OS layer knows it (stable across reloads, never reused).
    // `plan`: how to spawn it (spawn_plan.h), computed once per configuration.
    Service(std::size_t id, ServiceConfig config, SpawnPlan plan, Sys& sys, Logger& log);

    // Where it records its leader's pid while it runs (owned by the caller).
    void set_pid_index(PidIndex* index) { pid_index_ = index; }

    // --- commands from the Supervisor ---
    // Spawn the process (Pending or Backoff -> Starting).
    void start(TimePoint now);
    // Bring it down: signal `sig` (0 = its stop_signal) to the group, then
    // SIGKILL after stop_grace. Pending stays Pending, Backoff becomes Exited.
    void stop(TimePoint now, int sig = 0);
    // SIGKILL the group at once (second SIGINT, shutdown_timeout).
    void kill_now(TimePoint now);
    // Shutdown has begun: no more restarts; Backoff becomes Exited. A
    // SIGKILL from before (a health or start timeout) is no verdict on the
    // shutdown: killed_in_shutdown() counts only those that come after.
    void inhibit_restart(TimePoint now);
    // A dependency can never become ready: Pending -> Failed.
    void fail_dependency(TimePoint now, const std::string& dependency);

    // --- requests (the control socket, reload) ---
    // Take it down and keep it down: Stopped once no process of it is left
    // (its stop signal, SIGKILL after the grace, no restart policy).
    void take_down(TimePoint now);
    // Back to Pending (to start when its dependencies allow) from Stopped,
    // Exited, Failed, Completed or Backoff, with its restart counter reset.
    // Running or stopping services are left alone.
    void release(TimePoint now);
    // A new definition (a reload changed it); only while it is down.
    void redefine(ServiceConfig config, SpawnPlan plan);

    // --- events ---
    void on_exec_result(TimePoint now, const ExecResult& result);
    void on_exit(TimePoint now, ExitStatus status);
    void on_probe_result(TimePoint now, ProbeRole role, bool ok, const std::string& detail);
    // READY=1 arrived on the notify socket from one of its processes.
    void on_notify_ready(TimePoint now);
    // A process of this service's group may have gone (an orphan was reaped).
    bool on_group_member_gone(TimePoint now);  // true when it ended a stop
    void on_time(TimePoint now);
    std::optional<TimePoint> deadline() const;

    // --- queries ---
    std::size_t id() const { return id_; }
    const ServiceConfig& config() const { return config_; }
    const SpawnPlan& plan() const { return plan_; }
    const std::string& name() const { return config_.name; }
    ServiceState state() const { return state_; }
    FailReason fail_reason() const { return fail_reason_; }
    int exec_error() const { return exec_error_; }
    Pid pid() const { return pid_; }    // 0 when no leader process
    Pid pgid() const { return pgid_; }  // 0 when no group left to signal
    std::uint64_t restarts() const { return restarts_; }
    const std::optional<ExitStatus>& last_exit() const { return last_exit_; }
    TimePoint since() const { return since_; }
    // How many times its state changed: a watcher tells "after my request"
    // from "before it".
    std::uint64_t changes() const { return changes_; }
    // What went wrong last ("cannot execute /x: No such file or directory"),
    // for the client waiting on it; "" when nothing did.
    const std::string& last_error() const { return last_error_; }
    // Ready (longrun) or Completed (oneshot): dependents may start.
    bool satisfies_dependents() const;
    // Ended and will not run again (Completed, Exited, Failed).
    bool ended() const;
    // No process of its own is left (ended, pending, stopped, or backing off).
    bool down() const;
    // Up or on its way up: starting, ready, unhealthy.
    bool running() const;
    // The stop had to SIGKILL the group.
    bool was_killed() const { return killed_; }
    bool killed_in_shutdown() const { return killed_ && !killed_before_shutdown_; }
    bool stop_requested() const { return desired_down_; }
    // While stopping: the signal sent, when, and when SIGKILL follows (unset once sent).
    int stop_signal_sent() const { return stop_signal_sent_; }
    TimePoint stop_sent_at() const { return stop_sent_at_; }
    const std::optional<TimePoint>& kill_at() const { return stop_deadline_; }
    // STATUS=… from sd_notify, shown in /status.
    const std::string& status_text() const { return status_text_; }
    void set_status_text(std::string s) { status_text_ = std::move(s); }

  private:
    // What happens once a stop is complete: the service has ended (End),
    // restarts under its policy after an unhealthy stop (Restart), has
    // failed its start (Fail), or its leader had ended on its own and only
    // its leftovers were stopped: its own exit status decides (Leftovers);
    // or it was taken down by request and stays Stopped (Hold).
    enum class AfterStop { End, Restart, Fail, Leftovers, Hold };

    void set_state(TimePoint now, ServiceState s);
    void begin_stop(TimePoint now, int sig, AfterStop after, const char* what = "stopping");
    void finish_stop(TimePoint now);
    void ended_naturally(TimePoint now, ExitStatus status);
    void become_ready(TimePoint now);
    void stop_probes();
    bool polls_readiness() const;
    void cant_happen(const char* event);

    std::size_t id_;
    ServiceConfig config_;
    SpawnPlan plan_;
    Sys* sys_;  // pointers, not references: services are moved around (reload)
    Logger* log_;

    ServiceState state_ = ServiceState::Pending;
    bool desired_down_ = false;
    bool no_restart_ = false;
    FailReason fail_reason_ = FailReason::None;
    AfterStop after_stop_ = AfterStop::End;

    Pid pid_ = 0;
    PidIndex* pid_index_ = nullptr;
    Pid pgid_ = 0;
    bool exec_known_ = false;
    bool notified_ready_ = false;  // READY=1 seen during this run
    int exec_error_ = 0;
    bool killed_ = false;
    bool killed_before_shutdown_ = false;
    int health_failures_ = 0;
    int stop_signal_sent_ = 0;
    TimePoint stop_sent_at_{};
    std::uint64_t restarts_ = 0;
    Duration next_delay_{0};
    std::optional<ExitStatus> last_exit_;
    TimePoint since_{};
    TimePoint started_at_{};
    std::uint64_t changes_ = 0;
    std::string last_error_;

    std::optional<TimePoint> ready_deadline_;
    std::optional<TimePoint> stop_deadline_;
    std::optional<TimePoint> restart_at_;
    std::string status_text_;
};

}  // namespace sv
