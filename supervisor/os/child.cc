// The child routine: see child.h.
#include "child.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "rlimits.h"

namespace sv {

namespace {

struct ExecReport {
    int stage = 0;   // ExecStage
    int error = 0;   // errno
    int detail = 0;  // ExecStage::Limit: which of plan.limits
};

// The plan as the child needs it: plain arrays, built before fork.
struct Prepared {
    std::vector<char*> argv;
    std::vector<char*> envp;
    std::vector<const char*> paths;
    // {"/bin/sh", <path>, argv[1..]}: a script without #! is run by the
    // shell, as execvp() does; slot 1 is filled in by the child.
    std::vector<char*> sh_argv;
    std::vector<gid_t> groups;
    std::vector<std::pair<int, struct rlimit>> limits;
    int max_fd = 1024;  // for the close-on-exec fallback, without close_range()
};

Prepared prepare(const SpawnPlan& plan) {
    Prepared p;
    for (const std::string& a : plan.argv) p.argv.push_back(const_cast<char*>(a.c_str()));
    p.argv.push_back(nullptr);
    for (const std::string& e : plan.env) p.envp.push_back(const_cast<char*>(e.c_str()));
    p.envp.push_back(nullptr);
    for (const std::string& path : plan.exec_paths) p.paths.push_back(path.c_str());
    static char kShell[] = "/bin/sh";
    p.sh_argv.push_back(kShell);
    p.sh_argv.push_back(nullptr);
    for (std::size_t i = 1; i < plan.argv.size(); ++i)
        p.sh_argv.push_back(const_cast<char*>(plan.argv[i].c_str()));
    p.sh_argv.push_back(nullptr);
    for (std::uint32_t g : plan.identity.groups) p.groups.push_back(static_cast<gid_t>(g));
    for (const Limit& l : plan.limits) {
        struct rlimit rl;
        rl.rlim_cur = l.soft == kUnlimited ? RLIM_INFINITY : static_cast<rlim_t>(l.soft);
        rl.rlim_max = l.hard == kUnlimited ? RLIM_INFINITY : static_cast<rlim_t>(l.hard);
        p.limits.emplace_back(rlimit_resource(l.resource), rl);
    }
    // Once: a system call per spawn otherwise, for a fallback this kernel
    // may never take. Our own limit is raised before the first spawn
    // (os/rlimits.h) and never changes after.
    static const long open_max = ::sysconf(_SC_OPEN_MAX);
    p.max_fd = open_max > 0 ? static_cast<int>(std::min(open_max, 65536L)) : 1024;
    return p;
}

// The signals whose disposition is not SIG_DFL in the supervisor: the
// ones it ignores (SIGPIPE, SIGTTOU, SIGTTIN, and any it was started with
// ignored) and, where libev had to fall back to handlers, the caught ones.
// exec() resets caught signals by itself, but the child runs in our memory
// before it, so a handler of ours must never run there; and ignored ones
// survive exec. Read once, at the first spawn (the dispositions are settled
// by then), from /proc/self/status: three system calls instead of one
// sigaction() per signal.
struct SignalsToReset {
    int list[NSIG] = {};
    int count = 0;
};

bool parse_mask(const char* text, const char* key, unsigned long long& mask) {
    const char* at = std::strstr(text, key);
    if (!at) return false;
    mask = std::strtoull(at + std::strlen(key), nullptr, 16);
    return true;
}

const SignalsToReset& signals_to_reset() {
    static const SignalsToReset resets = [] {
        SignalsToReset r;
        unsigned long long ignored = 0, caught = 0;
        char text[4096];
        ssize_t n = -1;
        const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            n = ::read(fd, text, sizeof text - 1);
            ::close(fd);
        }
        bool known = false;
        if (n > 0) {
            text[n] = '\0';
            known = parse_mask(text, "\nSigIgn:", ignored) && parse_mask(text, "\nSigCgt:", caught);
        }
        for (int s = 1; s < NSIG && s <= 64; ++s) {
            if (s == SIGKILL || s == SIGSTOP) continue;
            bool reset = true;  // without /proc: every signal, as before
            if (known) reset = ((ignored | caught) >> (s - 1)) & 1U;
            if (reset) r.list[r.count++] = s;
        }
        return r;
    }();
    return resets;
}

// Async-signal-safe failure report from the child.
[[noreturn]] void child_fail(ExecReport* out, ExecStage stage, int error, int detail = 0) {
    out->stage = static_cast<int>(stage);
    out->error = error;
    out->detail = detail;
    ::_exit(127);
}

// The child, between clone and exec: async-signal-safe calls only, on
// memory prepared before, writing nothing of ours but the report.
[[noreturn]] void run_child(const SpawnPlan& plan, Prepared& p, const ChildStdio& stdio,
                            ExecReport* report, bool stdin_tty) {
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    const SignalsToReset& resets = signals_to_reset();
    for (int i = 0; i < resets.count; ++i) ::sigaction(resets.list[i], &dfl, nullptr);
    if (plan.foreground) {
        if (::setpgid(0, 0) < 0) child_fail(report, ExecStage::Session, errno);
        // Signals are still blocked, so taking the terminal's foreground
        // from a background group raises no SIGTTOU.
        if (stdin_tty) (void)::tcsetpgrp(STDIN_FILENO, ::getpid());
    } else if (::setsid() < 0) {
        child_fail(report, ExecStage::Session, errno);
    }
    if ((stdio.in >= 0 && stdio.in != STDIN_FILENO && ::dup2(stdio.in, STDIN_FILENO) < 0) ||
        (stdio.out >= 0 && stdio.out != STDOUT_FILENO && ::dup2(stdio.out, STDOUT_FILENO) < 0) ||
        (stdio.err >= 0 && stdio.err != STDERR_FILENO && ::dup2(stdio.err, STDERR_FILENO) < 0))
        child_fail(report, ExecStage::Stdio, errno);
    // Whatever we hold or inherited without O_CLOEXEC stays out of the
    // program. close_range(CLOEXEC) needs Linux 5.11; before, one fcntl()
    // per possible descriptor.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        for (int fd = 3; fd < p.max_fd; ++fd) (void)::fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (!plan.workdir.empty() && ::chdir(plan.workdir.c_str()) < 0)
        child_fail(report, ExecStage::Chdir, errno);
    // Before the identity changes: raising a hard limit needs the privilege
    // that setuid() drops.
    for (std::size_t i = 0; i < p.limits.size(); ++i)
        if (::setrlimit(p.limits[i].first, &p.limits[i].second) < 0)
            child_fail(report, ExecStage::Limit, errno, static_cast<int>(i));
    if (plan.umask) ::umask(static_cast<mode_t>(*plan.umask));
    const Identity& id = plan.identity;
    if (id.set_groups && ::setgroups(p.groups.size(), p.groups.data()) < 0)
        child_fail(report, ExecStage::Groups, errno);
    if (id.set_group && ::setgid(static_cast<gid_t>(id.gid)) < 0)
        child_fail(report, ExecStage::Setgid, errno);
    if (id.set_user && ::setuid(static_cast<uid_t>(id.uid)) < 0)
        child_fail(report, ExecStage::Setuid, errno);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // As execvp(): "found but not executable" is remembered while the
    // search goes on; "not found" goes on quietly; anything else stops it.
    int error = ENOENT;
    for (const char* path : p.paths) {
        ::execve(path, p.argv.data(), p.envp.data());
        if (errno == ENOEXEC) {
            p.sh_argv[1] = const_cast<char*>(path);
            ::execve(p.sh_argv[0], p.sh_argv.data(), p.envp.data());
            error = ENOEXEC;
            break;
        }
        if (errno == EACCES) {
            error = EACCES;
        } else if (errno != ENOENT && errno != ENOTDIR) {
            error = errno;
            break;
        }
    }
    child_fail(report, ExecStage::Exec, error);
}

}  // namespace

int pidfd_of(pid_t pid) {
    // The syscall rather than glibc 2.36's pidfd_open(): its header does not
    // compile as C++. ENOSYS (Linux < 5.3): no pidfd, -1.
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

bool pidfd_signal(int pidfd, int sig) {
    return ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0;
}

namespace {

struct ChildArgs {
    const SpawnPlan* plan;
    Prepared* prepared;
    const ChildStdio* stdio;
    ExecReport* report;
    bool stdin_tty;
};

// The child's entry on its own stack. Not instrumented: the sanitizers'
// bookkeeping must not run on a stack they do not know, in a process that
// shares the parent's memory.
__attribute__((no_sanitize("address", "undefined"))) int child_entry(void* arg) {
    auto* a = static_cast<ChildArgs*>(arg);
    run_child(*a->plan, *a->prepared, *a->stdio, a->report, a->stdin_tty);
}

ExecResult exec_result(const ExecReport& report, const SpawnPlan& plan) {
    if (report.error == 0) return ExecResult::ok();
    const auto stage = static_cast<ExecStage>(report.stage);
    std::string what = exec_stage_text(stage, plan);
    if (stage == ExecStage::Limit && report.detail >= 0 &&
        static_cast<std::size_t>(report.detail) < plan.limits.size()) {
        const Limit& l = plan.limits[static_cast<std::size_t>(report.detail)];
        what += std::string(" ") + resource_name(l.resource) + " to " + limit_text(l);
    }
    return ExecResult::failed(report.error, what, std::strerror(report.error));
}

// The child's stack. One is enough: with CLONE_VFORK we are suspended until
// the child has exec'd or exited, and spawns happen on the loop's thread.
alignas(64) char g_child_stack[256 * 1024];

}  // namespace

// clone(CLONE_VM | CLONE_VFORK), as glibc's posix_spawn() does, rather
// than fork(): the child borrows our memory until exec instead of a copy of
// our page tables (whose copy-on-write faults both sides would then pay),
// and we resume knowing how its exec went, so no exec-status pipe. Written
// by hand because posix_spawn() has no setrlimit, umask, setgroups/setuid,
// tcsetpgrp or close_range step. CLONE_PIDFD hands us the pidfd in the same
// call (Linux >= 5.2; pidfd_open() where it is refused).
Child start_child(const SpawnPlan& plan, const ChildStdio& stdio) {
    Child child;
    Prepared prepared = prepare(plan);
    (void)signals_to_reset();  // read now, not in the child
    ExecReport report;
    ChildArgs args{&plan, &prepared, &stdio, &report, plan.foreground && ::isatty(STDIN_FILENO)};
    sigset_t all, old;
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, &old);
    int pidfd = -1;
    char* stack_top = g_child_stack + sizeof g_child_stack;
    pid_t pid = ::clone(child_entry, stack_top, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
                        &args, &pidfd);
    if (pid < 0 && errno == EINVAL) {
        pidfd = -1;
        pid = ::clone(child_entry, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
    }
    const int clone_errno = errno;
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    if (pid < 0) {
        child.error = clone_errno;
        child.what = "cannot create a process";
        return child;
    }
    // Nothing to do for the group: with CLONE_VFORK the child has made it
    // (or failed) before we resume.
    child.pid = pid;
    child.pidfd = pidfd >= 0 ? pidfd : pidfd_of(pid);
    child.exec = exec_result(report, plan);
    return child;
}

std::string exec_stage_text(ExecStage stage, const SpawnPlan& plan) {
    switch (stage) {
        case ExecStage::Exec:
            return "cannot execute " + (plan.argv.empty() ? std::string() : plan.argv[0]);
        case ExecStage::Chdir:
            return "cannot change directory to " + plan.workdir;
        case ExecStage::Groups:
            return "cannot set supplementary groups";
        case ExecStage::Setgid:
            return "cannot switch to group " + (plan.group.empty() ? plan.user : plan.group);
        case ExecStage::Setuid:
            return "cannot switch to user " + plan.user;
        case ExecStage::Session:
            return "cannot create a process group";
        case ExecStage::Stdio:
            return "cannot set up stdin/stdout/stderr";
        case ExecStage::Limit:
            return "cannot set limit";
    }
    return "cannot execute";
}

}  // namespace sv
