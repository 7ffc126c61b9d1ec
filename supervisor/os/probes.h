// Readiness and liveness probes as adapters (after s6's notification-fd
// helpers): each probe turns what it observes into one event for the core,
// Supervisor::on_probe_result(index, role, ok, detail). Probes never touch
// service state.
//
//   tcp    non-blocking connect(2) to host:port; connected = ok
//   http   non-blocking GET; any 2xx/3xx status = ok
//   exec   a child process; exit status 0 = ok; killed at its timeout
//
// (Readiness by notify is no probe: see notify_socket.h.)
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
#include "spawn_plan.h"
#include "sys.h"

struct ev_loop;

namespace sv {

class Probes {
  public:
    using ResultFn =
        std::function<void(std::size_t index, ProbeRole role, bool ok, const std::string& detail)>;
    // `context`: the environment exec probes run with (outlives Probes).
    Probes(struct ev_loop* loop, ResultFn on_result, const RunContext& context);
    ~Probes();
    Probes(const Probes&) = delete;
    Probes& operator=(const Probes&) = delete;

    void start(std::size_t index, ProbeRole role, const ProbeConfig& probe);
    void stop(std::size_t index, ProbeRole role);

    // A reaped child: true when it was an exec probe's (then it is handled here).
    bool on_child_exit(pid_t pid, int wait_status);

    // Stop everything (shutdown).
    void stop_all();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sv
