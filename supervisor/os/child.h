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
//   6. A failed step writes {stage, errno} into a close-on-exec pipe and
//      _exit(127)s; a successful exec closes the pipe with nothing written.
//      The parent reads EOF (started) or the report (failed) at once, so a
//      missing binary is reported now, not as a mysterious exit 127 later.
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

struct Child {
    pid_t pid = -1;      // > 0 on success
    int status_fd = -1;  // read end of the exec-status pipe (close-on-exec, blocking)
    // A pidfd of the child (Linux >= 5.3; -1 before): signals sent through
    // it can never reach another process that got the pid after a reap.
    int pidfd = -1;
    int error = 0;          // errno of pipe() or fork() when pid < 0
    const char* what = "";  // which of them failed
};

Child start_child(const SpawnPlan& plan, const ChildStdio& stdio);

// A pidfd for `pid` (close-on-exec), or -1 where the kernel has none.
int pidfd_of(pid_t pid);
// pidfd_send_signal(2). False when the process is gone (ESRCH), even if
// its pid now belongs to another.
bool pidfd_signal(int pidfd, int sig);

// Reads the exec-status pipe (closing it) once the child exec'd or failed:
// EOF is success. Blocking is fine: by then the child has either exec'd
// (closing the pipe) or written its report and is exiting.
ExecResult read_exec_result(int status_fd, const SpawnPlan& plan);

// "cannot execute /usr/bin/apii", "cannot change directory to /srv", …
std::string exec_stage_text(ExecStage stage, const SpawnPlan& plan);

}  // namespace sv
