// The real Sys: see posix_sys.h.
#include "posix_sys.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "child.h"
#include "proc.h"
#include "rlimits.h"

namespace sv {

namespace {

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

SpawnResult failure(int error, std::string what) {
    SpawnResult r;
    r.error = error;
    r.what = std::move(what);
    r.why = std::strerror(error) + limit_hint(error);
    return r;
}

}  // namespace

TimePoint PosixSys::now() const {
    return Clock::now();
}

SpawnResult PosixSys::spawn(std::size_t index, const SpawnPlan& plan) {
    int out_pipe[2] = {-1, -1};
    int err_pipe[2] = {-1, -1};
    auto cleanup = [&]() {
        for (int* p : {out_pipe, err_pipe}) {
            close_fd(p[0]);
            close_fd(p[1]);
        }
    };
    const bool needs_null = plan.stdin_mode == StdioMode::Null ||
                            plan.stdout_mode == StdioMode::Null ||
                            plan.stderr_mode == StdioMode::Null;
    // Opened once and kept (close-on-exec): one descriptor, not one open()
    // per spawn. A minimal root may lack /dev/null: say so rather than blame
    // the pipes.
    if (needs_null && devnull_ < 0 && (devnull_ = ::open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
        return failure(errno, "cannot open /dev/null");
    const int devnull = devnull_;
    if ((plan.stdout_mode == StdioMode::Pipe && ::pipe2(out_pipe, O_CLOEXEC) < 0) ||
        (plan.stderr_mode == StdioMode::Pipe && ::pipe2(err_pipe, O_CLOEXEC) < 0)) {
        const int error = errno;
        cleanup();
        return failure(error, "cannot create pipes");
    }
    const auto fd_for = [&](StdioMode mode, int pipe_end, int own) {
        return mode == StdioMode::Pipe ? pipe_end : mode == StdioMode::Null ? devnull : own;
    };
    ChildStdio stdio;
    stdio.in = fd_for(plan.stdin_mode, -1, STDIN_FILENO);
    stdio.out = fd_for(plan.stdout_mode, out_pipe[1], STDOUT_FILENO);
    stdio.err = fd_for(plan.stderr_mode, err_pipe[1], STDERR_FILENO);
    // Services overlapped: the next one's spawn goes on while this one
    // execs. The foreground command (single-command mode, a main command)
    // is one process with nothing to overlap: it is waited for, as probes
    // are, without a flight's stack and copy of the plan.
    const Child child = start_child(plan, stdio, plan.foreground ? Launch::Wait : Launch::Overlap);
    if (child.pid < 0) {
        cleanup();
        return failure(child.error, child.what);
    }
    // Our copies of the write ends go along too (output.h says why).
    hooks_.spawned(index, child.pid, child.exec, child.exec_pending, {out_pipe[0], out_pipe[1]},
                   {err_pipe[0], err_pipe[1]});
    SpawnResult r;
    r.pid = child.pid;
    return r;
}

PosixSys::~PosixSys() {
    close_fd(devnull_);
}

void PosixSys::kill_group(Pid pgid, int sig) {
    // Never let a zero or -1 slip through: kill(0) would hit our own group and
    // kill(-(-1)) nonsense; a process group id is always > 1 here. A group
    // cannot be recycled while it has members: Linux gives no new process
    // a pid still in use as a process group id.
    if (pgid <= 1) return;
    // Every child launched has exec'd or died by then: its setsid() came
    // before, so the group exists for as long as one of its processes does,
    // a zombie leader not yet reaped included. ESRCH means all are reaped:
    // nothing to signal, and no leader that has yet to make its group (that
    // took a pidfd per service to reach, and a close per service at reap).
    await_all_execs();
    ::kill(-pgid, sig);
}

bool PosixSys::group_alive(Pid pgid) {
    if (pgid <= 1) return false;
    await_all_execs();
    return ::kill(-pgid, 0) == 0 || errno == EPERM;
}

void PosixSys::sweep(int sig) {
    await_all_execs();
    if (::getpid() == 1) {
        // Inside our own PID namespace (or as the machine's init) -1 reaches
        // every process but ourselves: the kernel would kill them anyway when
        // we exit, and this gives them their stop signal first.
        ::kill(-1, sig);
        return;
    }
    // Not PID 1: only our own descendants, never anything else.
    for (pid_t p : descendants_of(::getpid())) ::kill(p, sig);
}

bool PosixSys::has_children() {
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    // WNOWAIT: only look; the shell's SIGCHLD watcher does the reaping.
    return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

void PosixSys::start_probe(std::size_t index, ProbeRole role, const ProbeConfig& probe) {
    hooks_.start_probe(index, role, probe);
}

void PosixSys::stop_probe(std::size_t index, ProbeRole role) {
    hooks_.stop_probe(index, role);
}

}  // namespace sv
