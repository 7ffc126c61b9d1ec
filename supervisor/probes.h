// Readiness and liveness probes as adapters (after s6's notification-fd
// helpers): each probe turns what it observes into one event for the core,
// Supervisor::on_probe_result(index, role, ok, detail). Probes never touch
// service state.
//
//   tcp    non-blocking connect(2) to host:port; connected = ok
//   http   non-blocking GET; any 2xx/3xx status = ok
//   exec   a child process; exit status 0 = ok; killed at its timeout
//   notify sd_notify datagrams on a per-service socket ($NOTIFY_SOCKET);
//          READY=1 = ok, STATUS=… forwarded, BARRIER=1 answered
//
// tcp/http/exec run every `interval`, each attempt bounded by `timeout`.
// The interval is start-to-start with no overlap: an attempt that outlasts
// it is followed at once. A Ready probe tries at once (from a zero timer:
// start() never reports synchronously), a Health probe after one interval.
// Every attempt's verdict is reported; the core stops a Ready probe after
// its first ok. See probe_internal.h.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "config.h"
#include "sys.h"

struct ev_loop;

namespace sv {

class Probes {
  public:
    using ResultFn =
        std::function<void(std::size_t index, ProbeRole role, bool ok, const std::string& detail)>;
    using StatusFn = std::function<void(std::size_t index, std::string status)>;

    Probes(struct ev_loop* loop, ResultFn on_result, StatusFn on_status);
    ~Probes();
    Probes(const Probes&) = delete;
    Probes& operator=(const Probes&) = delete;

    void start(std::size_t index, ProbeRole role, const ProbeConfig& probe);
    void stop(std::size_t index, ProbeRole role);

    // Creates (once) service `index`'s notify socket and returns its path for
    // $NOTIFY_SOCKET, or "" with `error` set.
    std::string notify_socket(std::size_t index, const std::string& service_name,
                              std::string& error);
    // The pid of the service's current main process, to accept notify
    // messages only from its processes.
    void set_service_pid(std::size_t index, pid_t pid);

    // A reaped child: true when it was an exec probe's (then it is handled here).
    bool on_child_exit(pid_t pid, int wait_status);

    // Stop everything (shutdown).
    void stop_all();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sv
