// The supervisor seen from outside: the exit code and the status snapshot.
#include <chrono>
#include <csignal>
#include <optional>

#include "supervisor.h"

namespace sv {

namespace {

double seconds_between(TimePoint from, TimePoint to) {
    return std::chrono::duration<double>(to - from).count();
}

// The command's own status, as tini passes it on: N, 128+S, 126/127 when
// it could not be executed. Empty when it never ran.
std::optional<int> command_status(const Service& s) {
    if (s.fail_reason() == FailReason::ExecFailed || s.fail_reason() == FailReason::SpawnFailed)
        return exec_failure_exit_code(s.exec_error());
    if (s.last_exit()) return s.last_exit()->code();
    return std::nullopt;
}

}  // namespace

int Supervisor::exit_code() const {
    if (mode_ == RunMode::SingleCommand) {
        if (services_.empty()) return 0;
        return command_status(services_[0]).value_or(killed_everything_ ? 128 + SIGKILL : 0);
    }
    // The main command's status is the run's, unless a critical service
    // ended first (then the command was only stopped because of it).
    for (const Service& s : services_) {
        if (!s.config().main_command) continue;
        const bool other_critical = cause_ == Cause::Critical && critical_id_ != s.id();
        const std::optional<int> status = command_status(s);
        if (status && !other_critical) return *status;
    }
    switch (cause_) {
        case Cause::Signal: {
            bool killed = killed_everything_;
            for (const Service& s : services_) killed = killed || s.killed_in_shutdown();
            return killed ? 1 : 0;
        }
        case Cause::Critical: {
            const Service& s = *find_id(critical_id_);
            switch (s.fail_reason()) {
                case FailReason::SpawnFailed:
                case FailReason::ExecFailed:
                case FailReason::ReadyTimeout:
                case FailReason::DependencyFailed:
                    return 1;
                default:
                    if (!s.last_exit()) return 1;
                    // success_codes count as success for the exit code too.
                    if (!s.last_exit()->signaled && s.config().is_success(s.last_exit()->value))
                        return 0;
                    return s.last_exit()->code();
            }
        }
        case Cause::AllEnded: {
            for (const Service& s : services_) {
                if (s.state() == ServiceState::Completed) continue;
                if (s.state() == ServiceState::Exited && s.last_exit() &&
                    !s.last_exit()->signaled && s.config().is_success(s.last_exit()->value))
                    continue;
                return 1;
            }
            return 0;
        }
        case Cause::None:
            return 0;
    }
    return 1;
}

Snapshot Supervisor::snapshot(TimePoint now) const {
    Snapshot snap;
    switch (phase_) {
        case Phase::Starting:
            snap.state = "starting";
            break;
        case Phase::Running:
            snap.state = "running";
            break;
        default:
            snap.state = "stopping";
            break;
    }
    snap.shutting_down = shutting_down();
    snap.uptime_seconds = seconds_between(started_at_, now);
    snap.reaped_total = reaped_total_;
    for (const Service& s : services_) {
        ServiceSnapshot ss;
        ss.name = s.name();
        ss.state = state_name(s.state());
        ss.pid = s.pid();
        ss.ready = counts_as_ready(s.state());
        ss.passes_readyz = passes_readyz(s.state());
        ss.up = s.pgid() != 0;
        ss.restarts = s.restarts();
        ss.last_exit = s.last_exit();
        ss.since_seconds = seconds_between(s.since() == TimePoint{} ? started_at_ : s.since(), now);
        ss.status_text = s.status_text();
        ss.reason = fail_reason_text(s.fail_reason());
        snap.services.push_back(std::move(ss));
    }
    return snap;
}

}  // namespace sv
