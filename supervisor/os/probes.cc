// Readiness and liveness probes on the libev loop (see probes.h and
// probe_internal.h): the registry and the polling schedule. tcp/http live in
// probe_net.cc, exec in probe_exec.cc.
//
// Everything runs on the loop, with no threads and no blocking calls, so a
// hung probe target can never stall the supervisor: every attempt is
// bounded by an ev_timer, and a timed-out exec probe is SIGKILLed with its
// whole process group.
//
// Exec probes are children of ours, but the shell owns reaping (its SIGCHLD
// drain). It hands every reaped pid to on_child_exit() before the core
// sees it; a pid -> probe map holds the running attempts, and a set the pids
// whose verdict no longer matters (timed out, stopped), so their exit is
// swallowed quietly instead of reaching the core as an "orphan".
#include "probes.h"

#include <algorithm>
#include <map>
#include <utility>

#include "oops.h"
#include "probe_internal.h"
#include "resolver.h"

namespace sv {

using probe_detail::ExecPids;
using probe_detail::Probe;
using probe_detail::ProbeHost;

namespace probe_detail {

namespace {

// A zero interval would retry a refused connect in a tight loop; never
// start attempts closer together than this.
constexpr double kMinGap = 0.01;

double seconds(Duration d) {
    return static_cast<double>(d.count()) / 1000.0;
}

}  // namespace

// --- PollingProbe: the schedule ---

PollingProbe::PollingProbe(ProbeHost& host, std::size_t index, ProbeRole role,
                           const ProbeConfig& config)
    : host_(host), index_(index), role_(role), config_(config) {
    ev_init(&interval_timer_, on_interval);
    interval_timer_.data = this;
    ev_init(&timeout_timer_, on_timeout);
    timeout_timer_.data = this;
}

PollingProbe::~PollingProbe() {
    ev_timer_stop(host_.loop(), &interval_timer_);
    ev_timer_stop(host_.loop(), &timeout_timer_);
}

void PollingProbe::begin() {
    schedule(role_ == ProbeRole::Ready ? 0.0 : std::max(seconds(config_.interval), kMinGap));
}

void PollingProbe::schedule(double delay) {
    ev_timer_stop(host_.loop(), &interval_timer_);
    ev_timer_set(&interval_timer_, delay, 0.0);
    ev_timer_start(host_.loop(), &interval_timer_);
}

void PollingProbe::on_interval(struct ev_loop* loop, ev_timer* w, int) noexcept {
    auto* self = static_cast<PollingProbe*>(w->data);
    try {
        self->running_ = true;
        self->started_ = ev_now(loop);
        ev_timer_set(&self->timeout_timer_, seconds(self->config_.timeout), 0.0);
        ev_timer_start(loop, &self->timeout_timer_);
        self->start_attempt();  // may complete and destroy *self: nothing after
    } catch (...) {
        // complete() does not throw, so *self is still there.
        self->recover("starting a probe attempt");
    }
}

void PollingProbe::on_timeout(struct ev_loop*, ev_timer* w, int) noexcept {
    auto* self = static_cast<PollingProbe*>(w->data);
    try {
        self->cancel_attempt();
        self->complete(false, "timed out after " + format_duration(self->config_.timeout));
    } catch (...) {
        self->recover("timing out a probe attempt");
    }
}

void PollingProbe::recover(const char* where) noexcept {
    oops(where);
    try {
        cancel_attempt();
    } catch (...) {
        oops(where);
    }
    ev_timer_stop(host_.loop(), &timeout_timer_);
    running_ = false;
    schedule(std::max(seconds(config_.interval), kMinGap));
}

void PollingProbe::complete(bool ok, const std::string& detail) noexcept {
    struct ev_loop* loop = host_.loop();
    ev_timer_stop(loop, &timeout_timer_);
    running_ = false;
    // Start-to-start: an attempt that took longer than the interval is
    // followed at once (after kMinGap), never overlapped.
    double next = seconds(config_.interval) - (ev_now(loop) - started_);
    schedule(std::max(next, kMinGap));
    // Last: the core may destroy this probe while handling the verdict.
    ProbeHost& host = host_;
    const std::size_t index = index_;
    const ProbeRole role = role_;
    host.report(index, role, ok, detail);
}

}  // namespace probe_detail

// --- the registry ---

struct Probes::Impl final : ProbeHost {
    using Key = std::pair<std::size_t, ProbeRole>;

    Impl(struct ev_loop* l, ResultFn r, const RunContext& c)
        : loop_(l), on_result(std::move(r)), context(c) {}
    ~Impl() { stop_all(); }

    struct ev_loop* loop() override {
        return loop_;
    }
    Resolver& resolver() override { return resolver_; }

    void report(std::size_t index, ProbeRole role, bool ok,
                const std::string& detail) noexcept override {
        try {
            if (on_result) on_result(index, role, ok, detail);
        } catch (...) {
            oops("handling a probe's verdict");
        }
    }

    void stop(std::size_t index, ProbeRole role) {
        auto it = probes.find({index, role});
        if (it == probes.end()) return;
        // Move out first: the destructor may run code that looks at the map.
        std::unique_ptr<Probe> dying = std::move(it->second);
        probes.erase(it);
    }

    void stop_all() {
        std::map<Key, std::unique_ptr<Probe>> dying;
        dying.swap(probes);
        dying.clear();
    }

    struct ev_loop* loop_;
    ResultFn on_result;
    const RunContext& context;
    std::map<Key, std::unique_ptr<Probe>> probes;
    ExecPids exec_pids;
    Resolver resolver_{loop_};
};

Probes::Probes(struct ev_loop* loop, ResultFn on_result, const RunContext& context)
    : impl_(std::make_unique<Impl>(loop, std::move(on_result), context)) {}

Probes::~Probes() = default;

void Probes::start(std::size_t index, ProbeRole role, const ProbeConfig& probe) {
    Impl& m = *impl_;
    m.stop(index, role);
    std::unique_ptr<Probe> p;
    switch (probe.kind) {
        case ProbeKind::None:
        case ProbeKind::Notify:  // no probe: READY=1 reaches the core directly
            return;
        case ProbeKind::Tcp:
        case ProbeKind::Http:
            p = probe_detail::make_net_probe(m, index, role, probe);
            break;
        case ProbeKind::Exec:
            p = probe_detail::make_exec_probe(m, m.exec_pids, index, role, probe, m.context);
            break;
    }
    Probe& ref = *p;
    m.probes[{index, role}] = std::move(p);
    ref.begin();
}

void Probes::stop(std::size_t index, ProbeRole role) {
    impl_->stop(index, role);
}

bool Probes::on_child_exit(pid_t pid, int wait_status) {
    ExecPids& pids = impl_->exec_pids;
    if (pids.abandoned.erase(pid) > 0) return true;
    auto it = pids.running.find(pid);
    if (it == pids.running.end()) return false;
    it->second->exited(wait_status);  // reports last; may destroy the probe
    return true;
}

void Probes::stop_all() {
    impl_->stop_all();
}

}  // namespace sv
