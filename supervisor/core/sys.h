// The seam between the pure core and the operating system (after dinit's
// bp_sys). Everything the core (service.cc, supervisor.cc) asks of the OS goes
// through this interface: os/posix_sys.cc implements it for real, and
// tests/unit/fake_sys.h records the calls so the state machines can be unit
// tested without forking.
//
// Results that the OS delivers later (exec success or failure, a child's exit,
// a probe's verdict, a signal, a timer) come back as calls on Supervisor.
#pragma once

#include <cstddef>
#include <string>

#include "config.h"
#include "duration.h"
#include "spawn_plan.h"

namespace sv {

// A process id, as the kernel numbers them (pid_t is int on Linux).
using Pid = int;

// What a spawn returns at once. The exec result arrives later, through
// Supervisor::on_exec_result, once the close-on-exec status pipe reports.
struct SpawnResult {
    Pid pid = -1;      // > 0 on success
    int error = 0;     // errno when fork or a set-up step failed (0: none)
    std::string what;  // what could not be done, e.g. "cannot create pipes"
    std::string why;   // the errno text, e.g. "Too many open files" (may be empty)
};

// How an exec attempt ended, from the child's status pipe.
struct ExecResult {
    int error = 0;     // 0: exec succeeded; else the errno of the failed step
    std::string what;  // "cannot execute /usr/bin/apii", "cannot change directory to /x"
    std::string why;   // "No such file or directory"

    static ExecResult ok() { return {}; }
    static ExecResult failed(int error, std::string what, std::string why) {
        return {error, std::move(what), std::move(why)};
    }
};

enum class ProbeRole { Ready, Health };

class Sys {
  public:
    virtual ~Sys() = default;

    virtual TimePoint now() const = 0;

    // Carry out `plan` for service `index`: a new process in its own
    // process group (a session, or a foreground group when plan.foreground).
    virtual SpawnResult spawn(std::size_t index, const SpawnPlan& plan) = 0;

    // kill(-pgid, sig). Errors (ESRCH: the group is gone) are ignored.
    virtual void kill_group(Pid pgid, int sig) = 0;

    // Does any process of this group still exist?
    virtual bool group_alive(Pid pgid) = 0;

    // Signal every process left: as PID 1 every process in the namespace
    // (kill(-1, sig), guarded by getpid() == 1); otherwise only our own
    // descendants (orphans re-parented to us as subreaper).
    virtual void sweep(int sig) = 0;

    // Is any child (hence any descendant) of ours still alive or unreaped?
    virtual bool has_children() = 0;

    // Start or stop a polling probe (tcp, http, exec) of a service. A
    // started probe reports through Supervisor::on_probe_result until
    // stopped. Stopping an idle probe is a no-op. (Readiness by notify is
    // no probe: READY=1 arrives as Supervisor::on_notify.)
    virtual void start_probe(std::size_t index, ProbeRole role, const ProbeConfig& probe) = 0;
    virtual void stop_probe(std::size_t index, ProbeRole role) = 0;
};

}  // namespace sv
