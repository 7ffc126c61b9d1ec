// One service's lifecycle as an explicit state machine (after dinit's
// service_state_t / desired_state, and s6-supervise's one-method-per-event).
//
// The current state is what /status shows (SPEC §2). Beside it the service
// keeps a desired state (Up while the supervisor runs, Down once shutdown has
// reached it) and, while a stop is in flight, what happens when the process is
// gone (`after_stop_`: end, restart under the policy, or fail).
//
//   Pending --start()--> Starting --exec ok, no probe / probe ok--> Ready
//   Starting --exec failed--> Failed
//   Starting --start_timeout--> Stopping(after: fail) --exit--> Failed
//   Ready --health failures--> Unhealthy (stop signal sent) --exit--> Backoff | Exited | Failed
//   Ready/Starting --exit--> Backoff (restart policy) | Exited | Completed (oneshot, success) |
//   Failed Backoff --delay--> Starting any running --stop()--> Stopping --exit--> Exited   (SIGKILL
//   of the group after stop_grace)
//
// Every event is one method that switches on the current state; impossible
// combinations log "can't happen" instead of asserting. The service acts on
// the world only through Sys and reports through Logger; it owns its
// deadlines (start timeout, stop grace, back-off) and exposes the nearest.
#pragma once

#include <optional>
#include <string>

#include "config.h"
#include "duration.h"
#include "exit_status.h"
#include "log.h"
#include "sys.h"

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
};

// Why a service is Failed (or why it ended), as /status and the log render it.
enum class FailReason {
    None,
    SpawnFailed,       // fork/pipe failed
    ExecFailed,        // exec (or a set-up step before it) failed; errno in exec_error()
    ReadyTimeout,      // not ready within start_timeout
    TooManyRestarts,   // max_restarts used up
    DependencyFailed,  // a dependency ended and can never become ready
    ExitedWithError,   // a oneshot that ended with a non-success status
};

const char* state_name(ServiceState s);
const char* fail_reason_text(FailReason r);

class Service {
  public:
    Service(std::size_t index, const ServiceConfig& config, Sys& sys, Logger& log, bool foreground);

    // --- commands from the Supervisor ---
    // Spawn the process (Pending or Backoff -> Starting).
    void start(TimePoint now);
    // Bring it down: signal `sig` (0 = its stop_signal) to the group, then
    // SIGKILL after stop_grace. Pending stays Pending, Backoff becomes Exited.
    void stop(TimePoint now, int sig = 0);
    // SIGKILL the group at once (second SIGINT, shutdown_timeout).
    void kill_now(TimePoint now);
    // Shutdown has begun: no more restarts; Backoff becomes Exited.
    void inhibit_restart(TimePoint now);
    // A dependency can never become ready: Pending -> Failed.
    void fail_dependency(const std::string& dependency);

    // --- events ---
    // err == 0: exec succeeded. Otherwise the errno of the failed step.
    void on_exec_result(TimePoint now, int err, const std::string& stage);
    void on_exit(TimePoint now, ExitStatus status);
    void on_probe_result(TimePoint now, ProbeRole role, bool ok, const std::string& detail);
    // A process of this service's group may have gone (an orphan was reaped).
    void on_group_member_gone(TimePoint now);
    void on_time(TimePoint now);
    std::optional<TimePoint> deadline() const;

    // --- queries ---
    const ServiceConfig& config() const { return config_; }
    const std::string& name() const { return config_.name; }
    ServiceState state() const { return state_; }
    FailReason fail_reason() const { return fail_reason_; }
    int exec_error() const { return exec_error_; }
    pid_t pid() const { return pid_; }    // 0 when no leader process
    pid_t pgid() const { return pgid_; }  // 0 when no group left to signal
    int restarts() const { return restarts_; }
    const std::optional<ExitStatus>& last_exit() const { return last_exit_; }
    TimePoint since() const { return since_; }
    bool ready() const { return state_ == ServiceState::Ready; }
    // Ready (longrun) or Completed (oneshot): dependents may start.
    bool satisfies_dependents() const;
    // Ended and will not run again (Completed, Exited, Failed).
    bool ended() const;
    // No process of its own is left (ended, pending, or backing off).
    bool down() const;
    // The stop had to SIGKILL the group.
    bool was_killed() const { return killed_; }
    bool stop_requested() const { return desired_down_; }
    // While stopping: the signal sent, when, and when SIGKILL follows (unset once sent).
    int stop_signal_sent() const { return stop_signal_sent_; }
    TimePoint stop_sent_at() const { return stop_sent_at_; }
    const std::optional<TimePoint>& kill_at() const { return stop_deadline_; }
    // STATUS=… from sd_notify, shown in /status.
    const std::string& status_text() const { return status_text_; }
    void set_status_text(std::string s) { status_text_ = std::move(s); }

  private:
    enum class AfterStop { End, Restart, Fail };

    void set_state(TimePoint now, ServiceState s);
    void begin_stop(TimePoint now, int sig, AfterStop after);
    void finish_stop(TimePoint now);
    void ended_naturally(TimePoint now, ExitStatus status);
    void become_ready(TimePoint now);
    void stop_probes();
    void cant_happen(const char* event);

    std::size_t index_;
    const ServiceConfig& config_;
    Sys& sys_;
    Logger& log_;
    bool foreground_;

    ServiceState state_ = ServiceState::Pending;
    bool desired_down_ = false;
    bool no_restart_ = false;
    FailReason fail_reason_ = FailReason::None;
    AfterStop after_stop_ = AfterStop::End;

    pid_t pid_ = 0;
    pid_t pgid_ = 0;
    bool exec_known_ = false;
    int exec_error_ = 0;
    bool killed_ = false;
    int health_failures_ = 0;
    int stop_signal_sent_ = 0;
    TimePoint stop_sent_at_{};
    int restarts_ = 0;
    Duration next_delay_{0};
    std::optional<ExitStatus> last_exit_;
    TimePoint since_{};
    TimePoint started_at_{};

    std::optional<TimePoint> ready_deadline_;
    std::optional<TimePoint> stop_deadline_;
    std::optional<TimePoint> restart_at_;
    std::string status_text_;
};

}  // namespace sv
