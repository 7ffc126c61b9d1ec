// One service's state machine: see the essay in service.h.
//
// Conventions: each event method switches on state_; the branches that
// cannot happen log "can't happen" at debug level instead of asserting, so a
// surprising event order from the OS never takes the supervisor down.
#include "service.h"

#include <algorithm>
#include <cerrno>
#include <csignal>

#include "duration.h"
#include "signals.h"

namespace sv {

namespace {

// A service that ran at least this long gets its back-off reset
// (docs/configuration.md, restart_delay).
constexpr Duration kBackoffResetUptime{60000};

// The floor of the back-off: even `restart_delay = "0s"` waits this long
// between two runs (100 forks a second at most, and the doubling soon makes
// it far fewer), so a service that fails at once cannot make the supervisor
// fork in a tight loop. A delay written above it is kept as written.
constexpr Duration kMinRestartDelay{10};

// The status a run that could not be spawned counts as, for the restart
// policy: a failure, as a shell's 127.
constexpr int kSpawnFailedStatus = 127;

bool transient_spawn_error(int error) {
    return error == EMFILE || error == ENFILE || error == EAGAIN || error == ENOMEM;
}

}  // namespace

Service::Service(std::size_t id, ServiceConfig config, SpawnPlan plan, Sys& sys, Logger& log)
    : id_(id),
      config_(std::move(config)),
      plan_(std::move(plan)),
      sys_(&sys),
      log_(&log),
      next_delay_(std::max(config_.restart_delay, kMinRestartDelay)) {}

bool Service::polls_readiness() const {
    return config_.ready.kind != ProbeKind::None && config_.ready.kind != ProbeKind::Notify;
}

bool Service::satisfies_dependents() const {
    return config_.type == ServiceType::Oneshot ? state_ == ServiceState::Completed
                                                : state_ == ServiceState::Ready;
}

bool Service::ended() const {
    return is_final(state_);
}

bool Service::down() const {
    return pgid_ == 0 && (ended() || state_ == ServiceState::Pending ||
                          state_ == ServiceState::Backoff || state_ == ServiceState::Stopped);
}

bool Service::running() const {
    return state_ == ServiceState::Starting || state_ == ServiceState::Ready ||
           state_ == ServiceState::Unhealthy;
}

void Service::set_state(TimePoint now, ServiceState s) {
    if (s == state_) return;
    state_ = s;
    since_ = now;
    ++changes_;
}

void Service::cant_happen(const char* event) {
    // Said at error level: if it ever happens, somebody must hear of it.
    log_->log(Level::Error, name(), "cant_happen",
              std::string("can't happen: ") + event + " in state " + state_name(state_));
}

void Service::start(TimePoint now) {
    if (state_ != ServiceState::Pending && state_ != ServiceState::Backoff) {
        cant_happen("start");
        return;
    }
    restart_at_.reset();
    killed_ = false;
    last_error_.clear();
    exec_known_ = false;
    exec_error_ = 0;
    health_failures_ = 0;
    notified_ready_ = false;
    status_text_.clear();  // STATUS= belongs to the run that said it
    after_stop_ = AfterStop::End;
    SpawnResult r;
    if (plan_.error.empty()) {
        r = sys_->spawn(id_, plan_);
    } else {
        r.what = plan_.error;  // known before any attempt: an unknown user, …
    }
    if (r.pid <= 0) {
        fail_reason_ = FailReason::SpawnFailed;
        exec_error_ = r.error;
        std::string why = r.what.empty() ? r.why : r.what;
        if (!r.what.empty() && !r.why.empty()) why += ": " + r.why;
        last_error_ = "cannot start: " + why;
        log_->log(Level::Error, name(), "spawn_failed", last_error_, {str("error", why)});
        // Out of descriptors, processes or memory is a passing shortage, not
        // a broken definition: the restart policy decides, as for a crash.
        // (An unknown user or a missing /dev/null will not fix itself.)
        if (transient_spawn_error(r.error) && config_.restart != RestartPolicy::Never) {
            started_at_ = now;  // a run of no uptime: the back-off keeps growing
            ended_naturally(now, ExitStatus::exited(kSpawnFailedStatus));
            return;
        }
        set_state(now, ServiceState::Failed);
        return;
    }
    pid_ = r.pid;
    if (pid_index_) (*pid_index_)[pid_] = id_;
    pgid_ = r.pid;  // the child makes itself a group (session) leader
    started_at_ = now;
    set_state(now, ServiceState::Starting);
    if (config_.type == ServiceType::Longrun && config_.ready.kind != ProbeKind::None)
        ready_deadline_ = now + config_.ready.start_timeout;
}

void Service::on_exec_result(TimePoint now, const ExecResult& result) {
    if (exec_known_) return;
    exec_known_ = true;
    if (state_ != ServiceState::Starting && state_ != ServiceState::Stopping) {
        cant_happen("exec result");
        return;
    }
    if (result.error != 0) {
        exec_error_ = result.error;
        fail_reason_ = FailReason::ExecFailed;
        ready_deadline_.reset();
        stop_deadline_.reset();
        // The child _exit()s right after reporting; its exit is only reaped.
        set_state(now, ServiceState::Failed);
        const std::string what =
            result.what.empty() ? "cannot execute " + config_.argv[0] : result.what;
        last_error_ = what + ": " + result.why;
        log_->log(Level::Error, name(), "exec_failed", last_error_,
                  {str("error", result.why), str("stage", result.what)});
        return;
    }
    log_->log(Level::Info, name(), "started", "started (pid " + std::to_string(pid_) + ")",
              {num("pid", pid_)});
    if (state_ != ServiceState::Starting) return;      // stop already requested
    if (config_.type == ServiceType::Oneshot) return;  // runs until it exits
    if (config_.ready.kind == ProbeKind::None ||
        (config_.ready.kind == ProbeKind::Notify && notified_ready_)) {
        become_ready(now);
    } else if (polls_readiness()) {
        sys_->start_probe(id_, ProbeRole::Ready, config_.ready);
    }
}

void Service::on_notify_ready(TimePoint now) {
    if (config_.ready.kind != ProbeKind::Notify || state_ != ServiceState::Starting) return;
    notified_ready_ = true;
    // Before the exec result, it waits for it (see the essay in service.h).
    if (exec_known_) become_ready(now);
}

void Service::become_ready(TimePoint now) {
    ready_deadline_.reset();
    set_state(now, ServiceState::Ready);
    log_->log(Level::Info, name(), "ready", "ready");
    if (polls_readiness()) sys_->stop_probe(id_, ProbeRole::Ready);
    if (config_.health.kind != ProbeKind::None)
        sys_->start_probe(id_, ProbeRole::Health, config_.health);
}

void Service::on_probe_result(TimePoint now, ProbeRole role, bool ok, const std::string& detail) {
    if (role == ProbeRole::Ready) {
        if (state_ != ServiceState::Starting) return;  // late verdict after a stop: ignore
        if (ok) {
            become_ready(now);
        } else {
            log_->log(Level::Debug, name(), "not_ready", "not ready yet: " + detail);
        }
        return;
    }
    // Liveness.
    if (state_ != ServiceState::Ready) return;
    if (ok) {
        health_failures_ = 0;
        return;
    }
    ++health_failures_;
    log_->log(Level::Warn, name(), "health_failed",
              "health check failed (" + std::to_string(health_failures_) + "/" +
                  std::to_string(config_.health.failures) + "): " + detail,
              {num("failures", health_failures_), str("detail", detail)});
    if (health_failures_ >= config_.health.failures) {
        log_->log(Level::Warn, name(), "unhealthy",
                  "unhealthy after " + std::to_string(health_failures_) +
                      " failed health checks; stopping it");
        begin_stop(now, config_.stop_signal, AfterStop::Restart);
        set_state(now, ServiceState::Unhealthy);
    }
}

void Service::stop_probes() {
    if (polls_readiness()) sys_->stop_probe(id_, ProbeRole::Ready);
    if (config_.health.kind != ProbeKind::None) sys_->stop_probe(id_, ProbeRole::Health);
}

void Service::begin_stop(TimePoint now, int sig, AfterStop after, const char* what) {
    after_stop_ = after;
    ready_deadline_.reset();
    stop_probes();
    if (pgid_ > 0) sys_->kill_group(pgid_, sig);
    stop_signal_sent_ = sig;
    stop_sent_at_ = now;
    stop_deadline_ = now + config_.stop_grace;
    set_state(now, ServiceState::Stopping);
    log_->log(Level::Info, name(), "stopping",
              std::string(what) + " (" + signal_name(sig) + ", grace " +
                  format_duration(config_.stop_grace) + ")",
              {str("signal", signal_name(sig)),
               num("grace_ms", static_cast<long long>(config_.stop_grace.count()))});
}

void Service::stop(TimePoint now, int sig) {
    desired_down_ = true;
    if (sig == 0) sig = config_.stop_signal;
    switch (state_) {
        case ServiceState::Pending:
            return;  // never started
        case ServiceState::Backoff:
            restart_at_.reset();
            set_state(now, ServiceState::Exited);
            return;
        case ServiceState::Starting:
        case ServiceState::Ready:
            begin_stop(now, sig, AfterStop::End);
            return;
        case ServiceState::Unhealthy:
        case ServiceState::Stopping:
            after_stop_ = AfterStop::End;  // already signalled; keep its grace deadline
            return;
        case ServiceState::Completed:
        case ServiceState::Exited:
        case ServiceState::Failed:
        case ServiceState::Stopped:
            return;
    }
}

void Service::kill_now(TimePoint now) {
    desired_down_ = true;
    if (pgid_ == 0) {
        if (state_ == ServiceState::Backoff) stop(now);
        return;
    }
    if (state_ != ServiceState::Stopping && state_ != ServiceState::Unhealthy) {
        after_stop_ = AfterStop::End;
        ready_deadline_.reset();
        stop_probes();
        set_state(now, ServiceState::Stopping);
    }
    if (!killed_) {
        sys_->kill_group(pgid_, SIGKILL);
        killed_ = true;
        log_->log(Level::Warn, name(), "killed", "killed (SIGKILL)");
    }
    stop_deadline_.reset();
    if (pid_ == 0) finish_stop(now);  // leader already gone; SIGKILL is certain
}

void Service::inhibit_restart(TimePoint now) {
    no_restart_ = true;
    killed_before_shutdown_ = killed_;
    if (state_ == ServiceState::Backoff) {
        restart_at_.reset();
        set_state(now, ServiceState::Exited);
    }
}

void Service::fail_dependency(TimePoint now, const std::string& dependency) {
    if (state_ != ServiceState::Pending) return;
    fail_reason_ = FailReason::DependencyFailed;
    set_state(now, ServiceState::Failed);
    last_error_ = "not started: dependency '" + dependency + "' failed";
    log_->log(Level::Error, name(), "dependency_failed", last_error_,
              {str("dependency", dependency)});
}

void Service::take_down(TimePoint now) {
    switch (state_) {
        case ServiceState::Starting:
        case ServiceState::Ready:
            begin_stop(now, config_.stop_signal, AfterStop::Hold);
            return;
        case ServiceState::Unhealthy:
        case ServiceState::Stopping:
            after_stop_ = AfterStop::Hold;  // already signalled; keep its grace deadline
            return;
        case ServiceState::Backoff:
            restart_at_.reset();
            [[fallthrough]];
        case ServiceState::Pending:
        case ServiceState::Completed:
        case ServiceState::Exited:
        case ServiceState::Failed:
            killed_ = false;
            set_state(now, ServiceState::Stopped);
            log_->log(Level::Info, name(), "stopped", "stopped by request");
            return;
        case ServiceState::Stopped:
            return;
    }
}

void Service::release(TimePoint now) {
    switch (state_) {
        case ServiceState::Stopped:
        case ServiceState::Exited:
        case ServiceState::Failed:
        case ServiceState::Completed:
        case ServiceState::Backoff:
            break;
        default:
            return;  // up, on its way, or stopping: nothing to release
    }
    restart_at_.reset();
    restarts_ = 0;
    next_delay_ = std::max(config_.restart_delay, kMinRestartDelay);
    fail_reason_ = FailReason::None;
    exec_error_ = 0;
    killed_ = false;
    set_state(now, ServiceState::Pending);
}

void Service::redefine(ServiceConfig config, SpawnPlan plan) {
    if (!down()) {
        cant_happen("redefine");
        return;
    }
    config_ = std::move(config);
    plan_ = std::move(plan);
    next_delay_ = std::max(config_.restart_delay, kMinRestartDelay);
}

void Service::on_exit(TimePoint now, ExitStatus status) {
    if (pid_index_) pid_index_->erase(pid_);
    pid_ = 0;
    if (!exec_known_) {
        // The exit overtook the exec-status pipe: the shell reads the pipe
        // first, so reaching here means exec succeeded without a report.
        exec_known_ = true;
    }
    if (fail_reason_ == FailReason::ExecFailed && state_ == ServiceState::Failed) {
        pgid_ = 0;  // the child that reported the exec failure is gone
        return;
    }
    last_exit_ = status;
    // An exit we asked for is news, not a warning.
    const bool expected = state_ == ServiceState::Stopping || state_ == ServiceState::Unhealthy;
    const bool bad = status.signaled || !config_.is_success(status.value);
    log_->log(
        bad && !expected ? Level::Warn : Level::Info, name(), "exited", status.describe(),
        {status.signaled ? str("signal", signal_name(status.value)) : num("code", status.value)});
    switch (state_) {
        case ServiceState::Stopping:
        case ServiceState::Unhealthy:
            // The group may outlive its leader (grandchildren): it still
            // gets SIGKILL after the grace (docs/lifecycle.md).
            if (!killed_ && sys_->group_alive(pgid_)) return;
            finish_stop(now);
            return;
        case ServiceState::Starting:
        case ServiceState::Ready:
            stop_probes();
            if (sys_->group_alive(pgid_)) {
                // Nothing left behind: the rest of its group gets the stop
                // signal (SIGKILL after the grace), and the restart policy
                // decides only once the group is empty, so that a new run
                // never starts beside the remains of the last one.
                begin_stop(now, config_.stop_signal, AfterStop::Leftovers,
                           "stopping what is left of its process group");
                return;
            }
            pgid_ = 0;
            ended_naturally(now, status);
            return;
        default:
            pgid_ = 0;
            cant_happen("exit");
            return;
    }
}

bool Service::on_group_member_gone(TimePoint now) {
    if ((state_ == ServiceState::Stopping || state_ == ServiceState::Unhealthy) && pid_ == 0 &&
        pgid_ != 0 && !sys_->group_alive(pgid_)) {
        finish_stop(now);
        return true;
    }
    return false;
}

void Service::finish_stop(TimePoint now) {
    pgid_ = 0;
    stop_deadline_.reset();
    if (after_stop_ == AfterStop::Leftovers && !desired_down_) {
        // The leader's own status decides; a SIGKILL its leftovers needed
        // says nothing about the service.
        killed_ = false;
        ended_naturally(now, last_exit_.value_or(ExitStatus::killed(SIGKILL)));
        return;
    }
    if (after_stop_ == AfterStop::Hold && !desired_down_) {
        // Taken down by request: no restart policy, and a SIGKILL it
        // needed is no verdict on a later shutdown.
        killed_ = false;
        set_state(now, ServiceState::Stopped);
        log_->log(Level::Info, name(), "stopped", "stopped by request");
        return;
    }
    if (desired_down_ || after_stop_ == AfterStop::End || after_stop_ == AfterStop::Leftovers ||
        after_stop_ == AfterStop::Hold) {
        if (config_.type == ServiceType::Oneshot && last_exit_ && !last_exit_->signaled &&
            config_.is_success(last_exit_->value) && !killed_)
            set_state(now, ServiceState::Completed);
        else
            set_state(now, ServiceState::Exited);
        return;
    }
    if (after_stop_ == AfterStop::Fail) {
        set_state(now, ServiceState::Failed);
        return;
    }
    // Restart after an unhealthy stop: the policy decides, as for any exit.
    ended_naturally(now, last_exit_.value_or(ExitStatus::killed(SIGKILL)));
}

void Service::ended_naturally(TimePoint now, ExitStatus status) {
    ready_deadline_.reset();
    const bool success =
        !status.signaled && config_.is_success(status.value) && after_stop_ != AfterStop::Restart;
    if (config_.type == ServiceType::Oneshot && success) {
        set_state(now, ServiceState::Completed);
        log_->log(Level::Info, name(), "completed", "completed");
        return;
    }
    const bool want_restart = !desired_down_ && !no_restart_ &&
                              (config_.restart == RestartPolicy::Always ||
                               (config_.restart == RestartPolicy::OnFailure && !success));
    if (!want_restart) {
        if (config_.type == ServiceType::Oneshot) {
            fail_reason_ = FailReason::ExitedWithError;
            set_state(now, ServiceState::Failed);
        } else {
            set_state(now, ServiceState::Exited);
        }
        return;
    }
    if (config_.max_restarts > 0 && restarts_ >= static_cast<std::uint64_t>(config_.max_restarts)) {
        fail_reason_ = FailReason::TooManyRestarts;
        set_state(now, ServiceState::Failed);
        last_error_ =
            "not restarting: max_restarts (" + std::to_string(config_.max_restarts) + ") used up";
        log_->log(Level::Error, name(), "gave_up", last_error_);
        return;
    }
    const Duration first = std::max(config_.restart_delay, kMinRestartDelay);
    if (now - started_at_ >= kBackoffResetUptime) next_delay_ = first;
    const Duration delay = std::max(next_delay_, first);
    next_delay_ = std::max(std::min(config_.restart_delay_max, delay * 2), first);
    ++restarts_;
    restart_at_ = now + delay;
    set_state(now, ServiceState::Backoff);
    log_->log(Level::Info, name(), "restarting", "restarting in " + format_duration(delay),
              {num("delay_ms", static_cast<long long>(delay.count())),
               num("restarts", static_cast<long long>(restarts_))});
}

void Service::on_time(TimePoint now) {
    if (ready_deadline_ && now >= *ready_deadline_ && state_ == ServiceState::Starting) {
        ready_deadline_.reset();
        fail_reason_ = FailReason::ReadyTimeout;
        last_error_ =
            "not ready after " + format_duration(config_.ready.start_timeout) + " (start_timeout)";
        log_->log(Level::Error, name(), "ready_timeout",
                  "not ready within " + format_duration(config_.ready.start_timeout));
        begin_stop(now, config_.stop_signal, AfterStop::Fail);
    }
    if (stop_deadline_ && now >= *stop_deadline_) {
        stop_deadline_.reset();
        if (pgid_ != 0 && !killed_) {
            sys_->kill_group(pgid_, SIGKILL);
            killed_ = true;
            log_->log(Level::Warn, name(), "killed",
                      "killed after grace (" + format_duration(config_.stop_grace) + ")",
                      {num("grace_ms", static_cast<long long>(config_.stop_grace.count()))});
            if (pid_ == 0) finish_stop(now);  // leader gone; the rest dies with SIGKILL
        }
    }
    if (restart_at_ && now >= *restart_at_ && state_ == ServiceState::Backoff) {
        restart_at_.reset();
        if (!desired_down_ && !no_restart_) start(now);
    }
}

std::optional<TimePoint> Service::deadline() const {
    std::optional<TimePoint> d;
    for (const auto& t : {ready_deadline_, stop_deadline_, restart_at_})
        if (t && (!d || *t < *d)) d = t;
    return d;
}

}  // namespace sv
