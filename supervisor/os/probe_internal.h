// Internals shared by probes.cc, probe_net.cc and probe_exec.cc; not part
// of the interface (see probes.h for that).
//
// Every probe is a Probe owned by Probes::Impl, keyed by (service, role).
// The polling kinds (tcp, http, exec) derive from PollingProbe, which owns
// the schedule: one attempt at a time, each bounded by `timeout`, the next
// one `interval` after the previous one *started* (start-to-start, as
// Kubernetes' periodSeconds), or at once when an attempt took longer than
// the interval. A derived probe only knows how to begin and cancel one
// attempt and calls complete() with the verdict.
//
// Re-entrancy rule: a verdict goes to the core through ProbeHost::report(),
// and the core may react by stopping (destroying) this very probe, or
// starting a new one in its place. So report() is always the last thing a
// probe does: complete() calls it last, and every caller of complete()
// returns right after without touching members.
#pragma once

#include <ev.h>
#include <sys/types.h>

#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "config.h"
#include "spawn_plan.h"
#include "sys.h"

namespace sv {
class Resolver;
}

namespace sv::probe_detail {

// What a probe needs from its owner (Probes::Impl).
class ProbeHost {
  public:
    virtual struct ev_loop* loop() = 0;
    virtual Resolver& resolver() = 0;
    // One verdict for the core. May destroy the caller (see the rule above).
    virtual void report(std::size_t index, ProbeRole role, bool ok,
                        const std::string& detail) noexcept = 0;

  protected:
    ~ProbeHost() = default;
};

class Probe {
  public:
    virtual ~Probe() = default;
    // Called once, right after construction and registration. Never reports
    // synchronously: start() is called from inside the core's transitions.
    virtual void begin() = 0;
};

class PollingProbe : public Probe {
  public:
    PollingProbe(ProbeHost& host, std::size_t index, ProbeRole role, const ProbeConfig& config);
    ~PollingProbe() override;
    PollingProbe(const PollingProbe&) = delete;
    PollingProbe& operator=(const PollingProbe&) = delete;

    // Readiness probes try at once (from a zero timer); health probes wait
    // one interval first, since the service has only just become ready.
    void begin() override;

  protected:
    // Begins one attempt. May call complete() before returning (a refused
    // connect, a failed fork); then it must return at once.
    virtual void start_attempt() = 0;
    // Abandons the attempt in progress (timeout, stop): closes sockets,
    // kills processes; must not report. Derived destructors call it too.
    virtual void cancel_attempt() = 0;

    // Ends the current attempt with a verdict and schedules the next one.
    // Reports last: *this may be gone when it returns. Never throws, so a
    // callback that catches an exception knows *this is still there.
    void complete(bool ok, const std::string& detail) noexcept;

    // After an exception in one of its callbacks (out of memory): says so
    // at error level (oops.h), abandons the attempt without a verdict and
    // schedules the next one, so that a probe never stops for good.
    void recover(const char* where) noexcept;

    bool running() const { return running_; }

    ProbeHost& host_;
    const std::size_t index_;
    const ProbeRole role_;
    const ProbeConfig config_;

  private:
    static void on_interval(struct ev_loop* loop, ev_timer* w, int revents) noexcept;
    static void on_timeout(struct ev_loop* loop, ev_timer* w, int revents) noexcept;
    void schedule(double delay);

    ev_timer interval_timer_;
    ev_timer timeout_timer_;
    ev_tstamp started_ = 0;
    bool running_ = false;
};

// tcp and http (probe_net.cc).
std::unique_ptr<Probe> make_net_probe(ProbeHost& host, std::size_t index, ProbeRole role,
                                      const ProbeConfig& config);

// The status code of "HTTP/1.1 503 Service Unavailable", or -1 when the line
// is not an HTTP status line (probe_net.cc; exposed for tests).
int parse_status_line(std::string_view line);

// The exec probes' running attempts, for Probes::on_child_exit(): the loop
// reaps every child (the shell's SIGCHLD drain) and hands each pid here first.
class ExitListener {
  public:
    virtual void exited(int wait_status) = 0;

  protected:
    ~ExitListener() = default;
};

struct ExecPids {
    std::map<pid_t, ExitListener*> running;
    std::set<pid_t> abandoned;  // killed or stopped: their exit is swallowed quietly
};

// exec (probe_exec.cc).
std::unique_ptr<Probe> make_exec_probe(ProbeHost& host, ExecPids& pids, std::size_t index,
                                       ProbeRole role, const ProbeConfig& config,
                                       const RunContext& context);

}  // namespace sv::probe_detail
