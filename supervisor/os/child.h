// The one child routine: every process the supervisor starts (services and
// exec probes) goes from fork to exec through start_child(), with one
// discipline (after nghttpx, tini and dinit's run-child-proc):
//
//   1. Everything that allocates or may take a lock happens in the parent
//      first: the argv and envp arrays, the program's candidate paths, the
//      group list (core/spawn_plan.h decided all of it). The child only
//      makes async-signal-safe calls on that ready-made data.
//   2. All signals are blocked around fork, so no handler of ours runs in
//      the child before it has reset every disposition and its mask.
//   3. The child leaves our process group: setsid() (its stop signal and
//      SIGKILL then reach its whole tree), or setpgid() + tcsetpgrp() for a
//      foreground command, which owns the terminal as it would under tini.
//   4. Descriptors above 2 are marked close-on-exec, so nothing the
//      supervisor holds (or inherited) leaks into the program; the plan's
//      resource limits are set.
//   5. The program is tried at each candidate path with execve(), as
//      execvp() would (EACCES remembered, ENOEXEC run by /bin/sh).
//   6. The child runs in our memory (clone with CLONE_VM): a failed step
//      writes {stage, errno} into a report of ours and exits 127, so a
//      missing binary is reported as such, not as a mysterious exit 127.
//      Launch::Wait (CLONE_VFORK): we are suspended until the child has
//      exec'd or exited, and start_child() returns with the outcome.
//      Launch::Overlap: we go on at once, and the child execs beside us on
//      another CPU, on a stack and from a copy of the plan of its own, with
//      system calls made without the C library (child_syscalls.h: it shares
//      our errno); await_exec() tells the outcome. The shell asks before
//      the loop waits again, and before any signal is sent or child
//      reaped, so the core sees the same order of events as with Wait.
#pragma once

#include <sys/types.h>

#include <string>

#include "spawn_plan.h"
#include "sys.h"

namespace sv {

static_assert(sizeof(pid_t) == sizeof(Pid), "the core's Pid is the kernel's pid_t");

// Which step failed in the child, for the message "NAME: <what>: <errno text>".
enum class ExecStage : int { Exec = 0, Chdir, Groups, Setgid, Setuid, Session, Stdio, Limit };

// Descriptors for the child's 0, 1 and 2 (each dup2()ed into place), or -1
// to keep ours.
struct ChildStdio {
    int in = -1;
    int out = -1;
    int err = -1;
};

enum class Launch { Wait, Overlap };

// Whether the caller wants a pidfd of the child. Services do not: every
// signal to them goes to their process group, made before their exec is
// known (await_all_execs()). A probe is signalled alone, by pid, so it gets
// one, which no other process can ever answer to.
enum class Pidfd { None, Want };

struct Child {
    pid_t pid = -1;   // > 0 once a process exists (even when its exec failed)
    ExecResult exec;  // how the exec went: ok, or the step that failed and why
    // Launch::Overlap: `exec` is not known yet; await_exec(pid) tells it.
    bool exec_pending = false;
    // With Pidfd::Want, a pidfd of the child (Linux >= 5.3; -1 before):
    // signals sent through it can never reach another process that got the
    // pid after a reap. The caller closes it.
    int pidfd = -1;
    int error = 0;          // errno of clone() when pid < 0
    const char* what = "";  // which of them failed
};

Child start_child(const SpawnPlan& plan, const ChildStdio& stdio, Launch how = Launch::Wait,
                  Pidfd pidfd = Pidfd::None);

// The outcome of an overlapped launch's exec, waiting for it if need be
// (asked once per pid). Where overlapping is not available (sanitizer
// builds, architectures without child_syscalls.h's native calls) the launch
// waited and this says ok.
ExecResult await_exec(pid_t pid);
// Waits until every overlapped child has exec'd or exited (its outcome is
// kept for await_exec()): then each is in its own process group.
void await_all_execs();

// A pidfd for `pid` (close-on-exec), or -1 where the kernel has none.
int pidfd_of(pid_t pid);
// pidfd_send_signal(2). False when the process is gone (ESRCH), even if
// its pid now belongs to another.
bool pidfd_signal(int pidfd, int sig);

// "cannot execute /usr/bin/apii", "cannot change directory to /srv", …
std::string exec_stage_text(ExecStage stage, const SpawnPlan& plan);

}  // namespace sv
