// The run as a whole: see the essay in supervisor.h.
#include "supervisor.h"

#include <algorithm>
#include <cstdio>

#include "signals.h"

namespace sv {

namespace {

// While services take their time to stop, say what we are waiting for: first
// after a second, then every few seconds (a developer pressing Ctrl+C wants
// to know; a container log should not fill up).
constexpr Duration kProgressFirst{1000};
constexpr Duration kProgressEvery{3000};

std::string seconds_text(Duration d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

}  // namespace

Supervisor::Supervisor(const Config& config, const Graph& graph, Sys& sys, Logger& log,
                       RunMode mode, const RunContext& context)
    : config_(config), graph_(graph), sys_(sys), log_(log), mode_(mode), pid1_(context.pid1) {
    services_.reserve(config.services.size());
    for (std::size_t i = 0; i < config.services.size(); ++i)
        services_.emplace_back(
            next_id_++, config.services[i],
            plan_service(config.services[i], context, i, mode == RunMode::SingleCommand), sys, log);
    reindex();
}

void Supervisor::reindex() {
    positions_.clear();
    for (std::size_t i = 0; i < services_.size(); ++i) {
        positions_[services_[i].id()] = i;
        services_[i].set_pid_index(&pid_index_);
    }
}

std::size_t Supervisor::index_of(std::size_t id) const {
    const auto it = positions_.find(id);
    return it == positions_.end() ? static_cast<std::size_t>(-1) : it->second;
}

const Service* Supervisor::find_id(std::size_t id) const {
    const std::size_t i = index_of(id);
    return i < services_.size() ? &services_[i] : nullptr;
}

Service* Supervisor::find_mut(std::size_t id) {
    const std::size_t i = index_of(id);
    return i < services_.size() ? &services_[i] : nullptr;
}

const Service* Supervisor::find_name(std::string_view name) const {
    for (const Service& s : services_)
        if (s.name() == name) return &s;
    return nullptr;
}

const Service* Supervisor::find_leader(Pid pid) const {
    const auto it = pid_index_.find(pid);
    return it == pid_index_.end() ? nullptr : find_id(it->second);
}

Service* Supervisor::find_pid(Pid pid) {
    if (pid <= 0) return nullptr;
    const auto it = pid_index_.find(pid);
    return it == pid_index_.end() ? nullptr : find_mut(it->second);
}

// The main command depends on every service for its start and the shutdown
// order only: stopping or restarting a service by request leaves it alone.
std::vector<std::size_t> Supervisor::dependent_ids(std::size_t i) const {
    std::vector<std::size_t> out;
    if (i < graph_.size())
        for (std::size_t d : graph_.dependents(i))
            if (!services_[d].config().main_command) out.push_back(services_[d].id());
    return out;
}

std::vector<std::size_t> Supervisor::dependency_ids(std::size_t i) const {
    std::vector<std::size_t> out;
    if (i < graph_.size())
        for (std::size_t d : graph_.dependencies(i)) out.push_back(services_[d].id());
    return out;
}

bool Supervisor::shutting_down() const {
    return phase_ == Phase::Draining || phase_ == Phase::Stopping || phase_ == Phase::Sweeping ||
           phase_ == Phase::Done;
}

bool Supervisor::all_ready() const {
    if (shutting_down()) return false;
    for (const Service& s : services_)
        if (!passes_readyz(s.state())) return false;
    return true;
}

Duration Supervisor::sweep_grace() const {
    Duration g{0};
    for (const Service& s : services_) g = std::max(g, s.config().stop_grace);
    return g;
}

void Supervisor::start() {
    const TimePoint now = sys_.now();
    started_at_ = now;
    propagate(now);
}

void Supervisor::on_exec_result(Pid pid, const ExecResult& result) {
    Service* s = find_pid(pid);
    if (!s) return;
    const TimePoint now = sys_.now();
    s->on_exec_result(now, result);
    propagate(now);
}

void Supervisor::on_child_exit(Pid pid, ExitStatus status, bool orphan) {
    const TimePoint now = sys_.now();
    ++reaped_total_;
    if (Service* s = find_pid(pid)) {
        s->on_exit(now, status);
    } else {
        // Not a service leader: an orphan the kernel handed us (or a member
        // of a stopping service's group). Count it; it may end a stop. An
        // orphan storm must cost little per orphan: nothing to propagate
        // unless a stop ended.
        if (orphan) ++orphans_reaped_;
        bool changed = false;
        for (Service& member : services_) changed = member.on_group_member_gone(now) || changed;
        if (!changed) {
            check_sweep_done();
            return;
        }
    }
    propagate(now);
}

void Supervisor::on_probe_result(std::size_t id, ProbeRole role, bool ok,
                                 const std::string& detail) {
    Service* s = find_mut(id);
    if (!s) return;
    const TimePoint now = sys_.now();
    s->on_probe_result(now, role, ok, detail);
    propagate(now);
}

void Supervisor::on_notify(std::size_t id, bool ready, const std::optional<std::string>& status) {
    Service* found = find_mut(id);
    if (!found) return;
    Service& s = *found;
    if (status) s.set_status_text(*status);
    if (!ready) return;
    const TimePoint now = sys_.now();
    s.on_notify_ready(now);
    propagate(now);
}

void Supervisor::on_signal(int sig) {
    switch (signal_action(sig, mode_, pid1_)) {
        case SignalAction::Shutdown:
            on_stop_signal(sig);
            return;
        case SignalAction::Forward:
            forward(sig);
            return;
        case SignalAction::Reload:  // the shell's to do (it reads the file); not ours
        case SignalAction::Ignore:
            // Never fatal, never silent (signal_policy.h).
            log_.log(Level::Warn, "", "signal_ignored",
                     "received " + signal_name(sig) + "; ignoring it",
                     {str("signal", signal_name(sig))});
            return;
    }
}

void Supervisor::forward(int sig) {
    for (const Service& s : services_)
        if (s.pgid() != 0) sys_.kill_group(s.pgid(), sig);
}

void Supervisor::on_stop_signal(int sig) {
    const TimePoint now = sys_.now();
    if (!shutting_down()) {
        log_.log(Level::Info, "", "shutdown", "received " + signal_name(sig) + ", shutting down",
                 {str("signal", signal_name(sig))});
        if (mode_ == RunMode::SingleCommand) {
            // tini semantics: the command gets the very signal we got;
            // --stop-signal replaces SIGTERM (and the managers' signals) only.
            stop_signal_override_ = sig == SIGINT ? SIGINT : 0;
        }
        begin_shutdown(now, Cause::Signal);
    } else if (phase_ == Phase::Done) {
        return;
    } else if (mode_ == RunMode::SingleCommand) {
        // As tini: a second one goes to the command like the first, with
        // --stop-signal standing in for SIGTERM (and the managers' signals)
        // again; SIGINT stays SIGINT.
        const int stop = services_.empty() ? SIGTERM : services_[0].config().stop_signal;
        forward(sig == SIGINT ? SIGINT : stop);
    } else if (sig == SIGINT) {
        log_.log(Level::Warn, "", "kill", "second SIGINT: killing everything now");
        kill_everything(now);
    } else {
        log_.log(Level::Info, "", "shutdown",
                 "received " + signal_name(sig) +
                     " again; already shutting down (SIGINT twice kills at once)");
    }
    propagate(now);
}

void Supervisor::begin_shutdown(TimePoint now, Cause cause, std::size_t critical_id) {
    if (shutting_down()) return;
    cause_ = cause;
    critical_id_ = critical_id;
    // Requests in flight give way to the shutdown's own order.
    pending_stops_.clear();
    groups_.clear();
    release_when_down_.clear();
    for (Service& s : services_) s.inhibit_restart(now);
    shutdown_deadline_ = now + config_.supervisor.shutdown_timeout;
    bool main_ended = false;
    if (cause == Cause::Critical) {
        const Service& s = *find_id(critical_id);
        main_ended = s.config().main_command && s.last_exit();
        if (main_ended) {
            log_.log(Level::Info, s.name(), "main_exited",
                     "the main command " + s.last_exit()->describe() + "; stopping the services",
                     {num("code", s.last_exit()->code())});
        } else {
            log_.log(Level::Warn, s.name(), "critical",
                     "critical service ended (" + std::string(state_name(s.state())) +
                         "); shutting down");
        }
    }
    // Draining keeps traffic away from what is still running; when it is the
    // run's own end (every service, or the main command, has ended), there
    // is nothing left to drain for.
    if (cause != Cause::AllEnded && !main_ended && config_.supervisor.drain_delay.count() > 0) {
        phase_ = Phase::Draining;
        drain_until_ = now + config_.supervisor.drain_delay;
        log_.log(Level::Info, "", "draining",
                 "draining: not ready, services keep running for " +
                     format_duration(config_.supervisor.drain_delay));
        return;
    }
    enter_stopping(now);
}

void Supervisor::enter_stopping(TimePoint now) {
    phase_ = Phase::Stopping;
    drain_until_.reset();
    progress_at_ = now + kProgressFirst;
    propagate(now);
}

void Supervisor::enter_sweeping(TimePoint now) {
    phase_ = Phase::Sweeping;
    if (!sys_.has_children()) {
        phase_ = Phase::Done;
        return;
    }
    if (killed_everything_) {
        sys_.sweep(SIGKILL);
        return;
    }
    log_.log(Level::Info, "", "sweep", "sending SIGTERM to the processes left");
    sys_.sweep(SIGTERM);
    TimePoint at = now + sweep_grace();
    if (shutdown_deadline_ && *shutdown_deadline_ < at) at = *shutdown_deadline_;
    sweep_kill_at_ = at;
}

void Supervisor::kill_everything(TimePoint now) {
    killed_everything_ = true;
    drain_until_.reset();
    for (Service& s : services_) s.kill_now(now);
    if (phase_ == Phase::Sweeping) {
        sys_.sweep(SIGKILL);
        sweep_kill_at_.reset();
    } else if (phase_ != Phase::Done) {
        phase_ = Phase::Stopping;
    }
}

void Supervisor::check_sweep_done() {
    if (phase_ == Phase::Sweeping && !sys_.has_children()) {
        phase_ = Phase::Done;
        sweep_kill_at_.reset();
    }
}

void Supervisor::end_batch() {
    batching_ = false;
    if (!batch_changed_) return;
    batch_changed_ = false;
    propagate(sys_.now());
}

void Supervisor::propagate(TimePoint now) {
    if (batching_) {
        batch_changed_ = true;
        return;
    }
    for (bool changed = true; changed;) {
        changed = false;
        if (!shutting_down()) {
            if (process_requests(now)) changed = true;
            for (std::size_t i = 0; i < services_.size() && i < graph_.size(); ++i) {
                Service& s = services_[i];
                if (s.state() != ServiceState::Pending) continue;
                bool all_satisfied = true;
                const Service* failed_dep = nullptr;
                for (std::size_t d : graph_.dependencies(i)) {
                    const Service& dep = services_[d];
                    if (dep.satisfies_dependents()) continue;
                    all_satisfied = false;
                    if (dep.ended()) failed_dep = &dep;  // can never become ready
                }
                if (failed_dep) {
                    s.fail_dependency(now, failed_dep->name());
                    changed = true;
                } else if (all_satisfied) {
                    s.start(now);
                    changed = true;
                }
            }
            // A critical service that ended for good ends the run.
            for (std::size_t i = 0; i < services_.size() && !shutting_down(); ++i) {
                const Service& s = services_[i];
                if (!s.config().critical || !s.ended()) continue;
                if (s.state() == ServiceState::Completed) continue;  // a oneshot's normal end
                begin_shutdown(now, Cause::Critical, s.id());
                changed = true;
            }
            if (!shutting_down() && std::all_of(services_.begin(), services_.end(),
                                                [](const Service& s) { return s.ended(); })) {
                log_.log(Level::Info, "", "all_ended", "every service has ended");
                begin_shutdown(now, Cause::AllEnded);
                changed = true;
            }
            if (phase_ == Phase::Starting &&
                std::none_of(services_.begin(), services_.end(), [](const Service& s) {
                    return s.state() == ServiceState::Pending ||
                           s.state() == ServiceState::Starting;
                })) {
                phase_ = Phase::Running;
            }
        }
        if (phase_ == Phase::Stopping || phase_ == Phase::Draining) {
            // Reverse dependency order: a service is told to stop once every
            // one of its dependents is down. While draining, only services
            // still starting: nobody routes traffic to them, and shutdown
            // never waits for a readiness that may never come.
            for (std::size_t i = 0; i < services_.size(); ++i) {
                Service& s = services_[i];
                if (s.stop_requested()) continue;
                if (phase_ == Phase::Draining && s.state() != ServiceState::Starting) continue;
                bool dependents_down = true;
                if (i < graph_.size())
                    for (std::size_t d : graph_.dependents(i))
                        if (!services_[d].down()) dependents_down = false;
                if (!dependents_down) continue;
                s.stop(now, stop_signal_override_);
                changed = true;
            }
            if (phase_ == Phase::Stopping &&
                std::all_of(services_.begin(), services_.end(),
                            [](const Service& s) { return s.down(); })) {
                enter_sweeping(now);
                changed = true;
            }
        }
    }
    check_sweep_done();
}

void Supervisor::report_progress(TimePoint now) {
    std::string waiting;
    for (const Service& s : services_) {
        if (s.down() || !s.stop_requested() || s.stop_signal_sent() == 0) continue;
        if (!waiting.empty()) waiting += ", ";
        waiting += s.name() + " (" + signal_name(s.stop_signal_sent()) + " sent " +
                   seconds_text(std::chrono::duration_cast<Duration>(now - s.stop_sent_at())) +
                   " ago";
        if (s.kill_at())
            waiting += ", SIGKILL in " +
                       seconds_text(std::chrono::duration_cast<Duration>(*s.kill_at() - now));
        waiting += ")";
    }
    if (!waiting.empty()) log_.log(Level::Info, "", "waiting", "waiting for " + waiting);
}

void Supervisor::on_time(TimePoint now) {
    for (Service& s : services_) s.on_time(now);
    if (progress_at_ && now >= *progress_at_) {
        progress_at_.reset();
        if (phase_ == Phase::Stopping) {
            report_progress(now);
            progress_at_ = now + kProgressEvery;
        }
    }
    if (phase_ == Phase::Draining && drain_until_ && now >= *drain_until_) enter_stopping(now);
    if (shutdown_deadline_ && now >= *shutdown_deadline_ && phase_ != Phase::Done) {
        shutdown_deadline_.reset();
        log_.log(Level::Warn, "", "shutdown_timeout",
                 "shutdown_timeout (" + format_duration(config_.supervisor.shutdown_timeout) +
                     ") reached: killing everything");
        kill_everything(now);
    }
    if (phase_ == Phase::Sweeping && sweep_kill_at_ && now >= *sweep_kill_at_) {
        sweep_kill_at_.reset();
        log_.log(Level::Warn, "", "sweep", "sending SIGKILL to the processes left");
        sys_.sweep(SIGKILL);
    }
    propagate(now);
}

std::optional<TimePoint> Supervisor::next_deadline() const {
    std::optional<TimePoint> d;
    auto consider = [&d](const std::optional<TimePoint>& t) {
        if (t && (!d || *t < *d)) d = t;
    };
    for (const Service& s : services_) consider(s.deadline());
    consider(drain_until_);
    if (phase_ != Phase::Done) consider(shutdown_deadline_);
    consider(sweep_kill_at_);
    if (phase_ == Phase::Stopping) consider(progress_at_);
    return d;
}

}  // namespace sv
