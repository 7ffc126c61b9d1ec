// The seam between the pure core and the operating system (after dinit's
// bp_sys). Everything the core (service.cc, supervisor.cc) asks of the OS goes
// through this interface: sys_posix.cc implements it for real, and
// tests/unit/fake_sys.h records the calls so the state machines can be unit
// tested without forking.
//
// Results that the OS delivers later (exec success or failure, a child's exit,
// a probe's verdict, a signal, a timer) come back as calls on Supervisor.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "config.h"
#include "duration.h"

namespace sv {

// What a spawn returns at once. The exec result arrives later, through
// Supervisor::on_exec_result, once the close-on-exec status pipe reports.
struct SpawnResult {
    pid_t pid = -1;    // > 0 on success
    int error = 0;     // errno when the fork itself (or pipe/socket set-up) failed
    std::string what;  // what could not be done, e.g. "unknown user 'app'" (may be empty)
};

enum class ProbeRole { Ready, Health };

class Sys {
  public:
    virtual ~Sys() = default;

    virtual TimePoint now() const = 0;

    // Fork and exec service `index` in its own process group. In
    // single-command mode (`foreground` true) the child takes the terminal's
    // foreground instead of starting a new session, as tini does.
    virtual SpawnResult spawn(std::size_t index, const ServiceConfig& service, bool foreground) = 0;

    // kill(-pgid, sig). Errors (ESRCH: the group is gone) are ignored.
    virtual void kill_group(pid_t pgid, int sig) = 0;

    // Does any process of this group still exist?
    virtual bool group_alive(pid_t pgid) = 0;

    // Signal every process left: as PID 1 every process in the namespace
    // (kill(-1, sig), guarded by getpid() == 1); otherwise only our own
    // descendants (orphans re-parented to us as subreaper).
    virtual void sweep(int sig) = 0;

    // Is any child (hence any descendant) of ours still alive or unreaped?
    virtual bool has_children() = 0;

    // Start or stop the probe of a service. A started probe reports through
    // Supervisor::on_probe_result until stopped. Stopping an idle probe is a no-op.
    virtual void start_probe(std::size_t index, ProbeRole role, const ProbeConfig& probe) = 0;
    virtual void stop_probe(std::size_t index, ProbeRole role) = 0;
};

}  // namespace sv
