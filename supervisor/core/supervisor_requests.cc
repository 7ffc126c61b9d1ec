// Requests from the control socket: start, stop, restart, signal, shutdown.
// See the essay in supervisor.h. Each request only records what is wanted
// and lets propagate() carry it out in dependency order; the caller watches
// the services' states for the outcome.
#include <algorithm>
#include <csignal>

#include "signals.h"
#include "suggest.h"
#include "supervisor.h"

namespace sv {

namespace {

bool contains(const std::vector<std::size_t>& v, std::size_t x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

bool Supervisor::refuse_while_shutting_down(std::string& error) const {
    if (!shutting_down()) return false;
    error = "the supervisor is shutting down";
    return true;
}

bool Supervisor::find_services(const std::vector<std::string>& names, std::vector<std::size_t>& ids,
                               std::string& error) const {
    for (const std::string& name : names) {
        const int i = config_.find(name);
        if (i < 0) {
            std::vector<std::string_view> known;
            for (const ServiceConfig& s : config_.services) known.push_back(s.name);
            error = "unknown service '" + name + "'" + did_you_mean(name, known);
            return false;
        }
        const std::size_t id = services_[static_cast<std::size_t>(i)].id();
        if (!contains(ids, id)) ids.push_back(id);
    }
    return true;
}

std::vector<std::size_t> Supervisor::stop_closure(const std::vector<std::size_t>& ids) const {
    // The named services and, transitively, their dependents that are up or
    // on their way: backing off to a restart counts, and so does waiting
    // (pending) for the very service being stopped, which would otherwise
    // wait for good and fail /readyz. Those stop first.
    std::vector<std::size_t> set = ids;
    for (std::size_t k = 0; k < set.size(); ++k) {
        for (std::size_t d : dependent_ids(index_of(set[k]))) {
            const Service* s = find_id(d);
            if (!s || contains(set, d)) continue;
            const ServiceState st = s->state();
            if (!s->down() || st == ServiceState::Backoff || st == ServiceState::Pending)
                set.push_back(d);
        }
    }
    return set;
}

void Supervisor::queue_stops(const std::vector<std::size_t>& set) {
    for (std::size_t id : set) {
        release_when_down_.erase(
            std::remove(release_when_down_.begin(), release_when_down_.end(), id),
            release_when_down_.end());
        bool queued = false;
        for (const PendingStop& p : pending_stops_) queued = queued || p.id == id;
        if (queued) continue;
        PendingStop p{id, {}, false};
        for (std::size_t d : dependent_ids(index_of(id)))
            if (contains(set, d)) p.after.push_back(d);
        pending_stops_.push_back(std::move(p));
    }
}

bool Supervisor::request_stop(const std::vector<std::size_t>& ids, std::string& error) {
    if (refuse_while_shutting_down(error)) return false;
    queue_stops(stop_closure(ids));
    for (std::size_t id : ids)
        log_.log(Level::Info, find_id(id)->name(), "stop_requested", "stop requested");
    propagate(sys_.now());
    return true;
}

bool Supervisor::request_restart(const std::vector<std::size_t>& ids, std::string& error) {
    if (refuse_while_shutting_down(error)) return false;
    // Everything taken down (the named services and their running
    // dependents) comes back together, once all of it is down.
    const std::vector<std::size_t> set = stop_closure(ids);
    queue_stops(set);
    groups_.push_back(Group{set});
    for (std::size_t id : ids)
        log_.log(Level::Info, find_id(id)->name(), "restart_requested", "restart requested");
    propagate(sys_.now());
    return true;
}

bool Supervisor::request_start(const std::vector<std::size_t>& ids, std::string& error) {
    if (refuse_while_shutting_down(error)) return false;
    const TimePoint now = sys_.now();
    // The named services and, transitively, whatever they need that is down.
    std::vector<std::size_t> set = ids;
    for (std::size_t k = 0; k < set.size(); ++k)
        for (std::size_t d : dependency_ids(index_of(set[k])))
            if (!contains(set, d)) set.push_back(d);
    for (std::size_t id : set) {
        Service* s = find_mut(id);
        if (!s) continue;
        // A stop asked for earlier gives way.
        pending_stops_.erase(
            std::remove_if(pending_stops_.begin(), pending_stops_.end(),
                           [&](const PendingStop& p) { return p.id == id && !p.issued; }),
            pending_stops_.end());
        const ServiceState st = s->state();
        // A completed oneshot that is needed is satisfied as it is; named,
        // it runs again.
        if (st == ServiceState::Completed && !contains(ids, id)) continue;
        if (st == ServiceState::Stopping) {
            if (!contains(release_when_down_, id)) release_when_down_.push_back(id);
            continue;
        }
        s->release(now);
    }
    for (std::size_t id : ids)
        log_.log(Level::Info, find_id(id)->name(), "start_requested", "start requested");
    propagate(now);
    return true;
}

bool Supervisor::request_signal(const std::vector<std::size_t>& ids, int sig, std::string& error) {
    std::vector<std::string> idle;
    for (std::size_t id : ids) {
        const Service* s = find_id(id);
        if (s && s->pgid() != 0)
            sys_.kill_group(s->pgid(), sig);
        else if (s)
            idle.push_back(s->name());
    }
    if (idle.empty()) return true;
    error.clear();
    for (const std::string& n : idle) error += (error.empty() ? "" : ", ") + n;
    error += idle.size() == 1 ? " is not running" : " are not running";
    return false;
}

void Supervisor::request_shutdown(const std::string& who) {
    if (shutting_down()) return;
    const TimePoint now = sys_.now();
    log_.log(Level::Info, "", "shutdown", "shutdown requested by " + who + ", shutting down");
    begin_shutdown(now, Cause::Signal);
    propagate(now);
}

bool Supervisor::process_requests(TimePoint now) {
    bool changed = false;
    const auto is_down = [&](std::size_t id) {
        const Service* s = find_id(id);
        return !s || s->down();
    };
    const auto has_pending_stop = [&](std::size_t id) {
        for (const PendingStop& p : pending_stops_)
            if (p.id == id) return true;
        return false;
    };
    // Stops whose turn has come (everything in `after` is down).
    for (PendingStop& p : pending_stops_) {
        if (p.issued || !std::all_of(p.after.begin(), p.after.end(), is_down)) continue;
        if (Service* s = find_mut(p.id)) s->take_down(now);
        p.issued = true;
        changed = true;
    }
    // Stops that are complete.
    pending_stops_.erase(
        std::remove_if(pending_stops_.begin(), pending_stops_.end(),
                       [&](const PendingStop& p) { return p.issued && is_down(p.id); }),
        pending_stops_.end());
    const auto settled = [&](std::size_t id) { return is_down(id) && !has_pending_stop(id); };
    // Restart groups: all down, all back.
    for (auto g = groups_.begin(); g != groups_.end();) {
        if (!std::all_of(g->ids.begin(), g->ids.end(), settled)) {
            ++g;
            continue;
        }
        for (std::size_t id : g->ids)
            if (Service* s = find_mut(id)) s->release(now);
        g = groups_.erase(g);
        changed = true;
    }
    // Started while it was stopping; redefined by a reload.
    for (auto it = release_when_down_.begin(); it != release_when_down_.end();) {
        if (!settled(*it)) {
            ++it;
            continue;
        }
        if (Service* s = find_mut(*it)) s->release(now);
        it = release_when_down_.erase(it);
        changed = true;
    }
    for (auto r = redefinitions_.begin(); r != redefinitions_.end();) {
        if (!settled(r->id)) {
            ++r;
            continue;
        }
        if (Service* s = find_mut(r->id)) {
            s->redefine(std::move(r->config), std::move(r->plan));
            s->release(now);
        }
        r = redefinitions_.erase(r);
        changed = true;
    }
    // Removed by a reload: gone once down.
    for (auto it = remove_when_down_.begin(); it != remove_when_down_.end();) {
        if (!settled(*it)) {
            ++it;
            continue;
        }
        const std::size_t i = index_of(*it);
        if (i < services_.size()) {
            services_.erase(services_.begin() + static_cast<long>(i));
            reindex();
        }
        it = remove_when_down_.erase(it);
        changed = true;
    }
    return changed;
}

}  // namespace sv
