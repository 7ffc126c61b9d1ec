// Internals shared by probes.cc, probe_net.cc and probe_notify.cc; not part
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
#include <memory>
#include <string>
#include <string_view>

#include "config.h"
#include "sys.h"

namespace sv::probe_detail {

// What a probe needs from its owner (Probes::Impl).
class ProbeHost {
  public:
    virtual struct ev_loop* loop() = 0;
    // One verdict for the core. May destroy the caller (see the rule above).
    virtual void report(std::size_t index, ProbeRole role, bool ok, const std::string& detail) = 0;

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
    // Reports last: *this may be gone when it returns.
    void complete(bool ok, std::string detail);

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

// "HTTP 503" from "HTTP/1.1 503 Service Unavailable"; exposed for probe_net.cc's
// parser. Returns the status code, or -1 when the line is not an HTTP status line.
int parse_status_line(std::string_view line);

// One service's sd_notify socket (probe_notify.cc). Watched from creation
// until destroyed; the socket file is unlinked on destruction.
class NotifySocket {
  public:
    // What a datagram from an accepted sender produced.
    struct Events {
        virtual void notify_ready(std::size_t index) = 0;
        virtual void notify_status(std::size_t index, std::string status) = 0;

      protected:
        ~Events() = default;
    };

    // Creates, binds (path must fit sockaddr_un) and starts watching.
    // Returns nullptr with `error` set on failure.
    static std::unique_ptr<NotifySocket> open(struct ev_loop* loop, Events& events,
                                              std::size_t index, const std::string& path,
                                              std::string& error);
    ~NotifySocket();
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    void set_service_pid(pid_t pid) { service_pid_ = pid; }
    const std::string& path() const { return path_; }

  private:
    NotifySocket(struct ev_loop* loop, Events& events, std::size_t index, std::string path, int fd);
    static void on_readable(struct ev_loop* loop, ev_io* w, int revents) noexcept;
    void receive();

    struct ev_loop* loop_;
    Events& events_;
    std::size_t index_;
    std::string path_;
    int fd_;
    pid_t service_pid_ = 0;
    ev_io readable_;
};

// Is `sender` (with effective uid `uid`, from SCM_CREDENTIALS) the service
// whose main process is `service_pid`, or one of its processes?
bool sender_belongs_to_service(pid_t sender, uid_t uid, pid_t service_pid);

}  // namespace sv::probe_detail
