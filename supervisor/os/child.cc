// The child routine: see child.h.
#include "child.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "child_syscalls.h"
#include "rlimits.h"

namespace sv {

namespace {

struct ExecReport {
    int stage = 0;   // ExecStage
    int error = 0;   // errno
    int detail = 0;  // ExecStage::Limit: which of plan.limits
};

struct SignalsToReset;

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
    int max_fd = 1024;              // for the close-on-exec fallback, without close_range()
    const char* workdir = nullptr;  // nullptr: stay where we are
    const SignalsToReset* resets = nullptr;
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
    if (!plan.workdir.empty()) p.workdir = plan.workdir.c_str();
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

// The child's side, between clone and exec. Everything in it runs on the
// child's own stack, in our memory, possibly while we run on: no C library
// call (child_syscalls.h says why), no sanitizer bookkeeping, and nothing
// of ours written but the report.
#define SV_CHILD_SIDE __attribute__((no_sanitize("address", "undefined")))

[[noreturn]] SV_CHILD_SIDE void child_fail(ExecReport* out, ExecStage stage, int error,
                                           int detail = 0) {
    out->stage = static_cast<int>(stage);
    out->error = error;
    out->detail = detail;
    for (;;) child_sys::call(SYS_exit_group, 127);
}

// The kernel's struct sigaction (not the C library's): all zero is SIG_DFL
// with no flags and an empty mask, on x86-64 and arm64 alike.
struct KernelSigaction {
    unsigned long handler = 0;
    unsigned long flags = 0;
    unsigned long restorer = 0;
    unsigned long mask = 0;
};

[[noreturn]] SV_CHILD_SIDE void run_child(const SpawnPlan& plan, Prepared& p,
                                          const ChildStdio& stdio, ExecReport* report,
                                          bool stdin_tty) {
    using child_sys::call;
    using child_sys::error_of;
    const KernelSigaction dfl;
    const SignalsToReset& resets = *p.resets;
    for (int i = 0; i < resets.count; ++i)
        call(SYS_rt_sigaction, resets.list[i], reinterpret_cast<long>(&dfl), 0, sizeof dfl.mask);
    if (plan.foreground) {
        if (const int e = error_of(call(SYS_setpgid, 0, 0)))
            child_fail(report, ExecStage::Session, e);
        // Signals are still blocked, so taking the terminal's foreground
        // from a background group raises no SIGTTOU.
        if (stdin_tty) {
            const int self = static_cast<int>(call(SYS_getpid));
            call(SYS_ioctl, STDIN_FILENO, TIOCSPGRP, reinterpret_cast<long>(&self));
        }
    } else if (const int e = error_of(call(SYS_setsid))) {
        child_fail(report, ExecStage::Session, e);
    }
    const int moves[3][2] = {
        {stdio.in, STDIN_FILENO}, {stdio.out, STDOUT_FILENO}, {stdio.err, STDERR_FILENO}};
    for (const auto& m : moves)
        if (m[0] >= 0 && m[0] != m[1])
            if (const int e = error_of(call(SYS_dup3, m[0], m[1], 0)))
                child_fail(report, ExecStage::Stdio, e);
    // Whatever we hold or inherited without O_CLOEXEC stays out of the
    // program. close_range(CLOEXEC) needs Linux 5.11; before, one fcntl()
    // per possible descriptor.
    if (error_of(call(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC)))
        for (int fd = 3; fd < p.max_fd; ++fd) call(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
    if (p.workdir)
        if (const int e = error_of(call(SYS_chdir, reinterpret_cast<long>(p.workdir))))
            child_fail(report, ExecStage::Chdir, e);
    // Before the identity changes: raising a hard limit needs the privilege
    // that setuid() drops.
    for (std::size_t i = 0; i < p.limits.size(); ++i)
        if (const int e = error_of(call(SYS_prlimit64, 0, p.limits[i].first,
                                        reinterpret_cast<long>(&p.limits[i].second), 0)))
            child_fail(report, ExecStage::Limit, e, static_cast<int>(i));
    if (plan.umask) call(SYS_umask, static_cast<long>(*plan.umask));
    const Identity& id = plan.identity;
    if (id.set_groups)
        if (const int e = error_of(call(SYS_setgroups, static_cast<long>(p.groups.size()),
                                        reinterpret_cast<long>(p.groups.data()))))
            child_fail(report, ExecStage::Groups, e);
    if (id.set_group)
        if (const int e = error_of(call(SYS_setgid, static_cast<long>(id.gid))))
            child_fail(report, ExecStage::Setgid, e);
    if (id.set_user)
        if (const int e = error_of(call(SYS_setuid, static_cast<long>(id.uid))))
            child_fail(report, ExecStage::Setuid, e);
    const unsigned long none = 0;
    call(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&none), 0, sizeof none);
    // As execvp(): "found but not executable" is remembered while the
    // search goes on; "not found" goes on quietly; anything else stops it.
    int error = ENOENT;
    const long argv = reinterpret_cast<long>(p.argv.data());
    const long envp = reinterpret_cast<long>(p.envp.data());
    for (const char* path : p.paths) {
        const int e = error_of(call(SYS_execve, reinterpret_cast<long>(path), argv, envp));
        if (e == ENOEXEC) {
            p.sh_argv[1] = const_cast<char*>(path);
            call(SYS_execve, reinterpret_cast<long>(p.sh_argv[0]),
                 reinterpret_cast<long>(p.sh_argv.data()), envp);
            error = ENOEXEC;
            break;
        }
        if (e == EACCES) {
            error = EACCES;
        } else if (e != ENOENT && e != ENOTDIR) {
            error = e;
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
SV_CHILD_SIDE int child_entry(void* arg) {
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

// The child's stack when we wait for its exec at once (CLONE_VFORK): one
// is enough, we are suspended until the child has exec'd or exited.
alignas(64) char g_child_stack[256 * 1024];

// Overlapped launches: a child we do not wait for at once runs on a stack
// of its own, from a plan of its own; both are ours again when the kernel
// has cleared `tid` (CLONE_CHILD_CLEARTID: at the child's exec, or its
// exit). kFlights in flight at most: a ninth launch first waits for the
// oldest. On two CPUs two or three would do; eight leave room for more.
// Not under AddressSanitizer: its shadow memory would be written by a child
// running beside us on a stack it does not know.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kOverlap = false;
#else
constexpr bool kOverlap = child_sys::kNative;
#endif
constexpr std::size_t kFlights = 8;
constexpr std::size_t kFlightStack = 64 * 1024;

struct Flight {
    std::unique_ptr<char[]> stack{new char[kFlightStack]};
    int tid = 0;  // 1 from launch until the kernel clears it
    pid_t pid = -1;
    std::uint64_t launched = 0;  // order of launch, to find the oldest
    SpawnPlan plan;
    Prepared prepared;
    ChildStdio stdio;
    ExecReport report;
    ChildArgs args{};
};

struct Flights {
    std::array<std::unique_ptr<Flight>, kFlights> slots;
    std::uint64_t launches = 0;
    std::size_t busy = 0;
    // Outcomes of the flights landed but not yet asked for, by pid.
    std::unordered_map<pid_t, ExecResult> landed;
};

Flights& flights() {
    static Flights f;
    return f;
}

// Waits until `f`'s child has exec'd or exited, keeps its outcome and frees
// the slot.
void land(Flight& f) {
    int v;
    while ((v = __atomic_load_n(&f.tid, __ATOMIC_ACQUIRE)) != 0)
        ::syscall(SYS_futex, &f.tid, FUTEX_WAIT, v, nullptr, nullptr, 0);
    Flights& all = flights();
    all.landed[f.pid] = exec_result(f.report, f.plan);
    f.pid = -1;
    --all.busy;
}

Flight& free_flight() {
    Flights& all = flights();
    Flight* oldest = nullptr;
    for (auto& slot : all.slots) {
        if (!slot) slot = std::make_unique<Flight>();  // one more stack, when first needed
        if (slot->pid < 0) return *slot;
        if (!oldest || slot->launched < oldest->launched) oldest = slot.get();
    }
    land(*oldest);
    return *oldest;
}

pid_t launch(int (*entry)(void*), char* stack_top, int flags, ChildArgs* args, int* pidfd,
             int* tid) {
    sigset_t all, old;
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, &old);
    *pidfd = -1;
    pid_t pid = ::clone(entry, stack_top, flags | CLONE_PIDFD, args, pidfd, nullptr, tid);
    if (pid < 0 && errno == EINVAL) {
        *pidfd = -1;
        pid = ::clone(entry, stack_top, flags, args, nullptr, nullptr, tid);
    }
    const int clone_errno = errno;
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    errno = clone_errno;
    return pid;
}

}  // namespace

// clone(CLONE_VM), as glibc's posix_spawn() does, rather than fork(): the
// child borrows our memory until exec instead of a copy of our page tables
// (whose copy-on-write faults both sides would then pay). Written by hand
// because posix_spawn() has no setrlimit, umask, setgroups/setuid,
// tcsetpgrp or close_range step. CLONE_PIDFD hands us the pidfd in the same
// call (Linux >= 5.2; pidfd_open() where it is refused).
//
// Waiting (CLONE_VFORK) we resume knowing how the exec went. Overlapped, we
// go on at once (the next service's clone while this one execs on the
// other CPU) and learn it from await_exec(), before the loop waits again.
Child start_child(const SpawnPlan& plan, const ChildStdio& stdio, Launch how) {
    Child child;
    const bool stdin_tty = plan.foreground && ::isatty(STDIN_FILENO);
    const SignalsToReset& resets = signals_to_reset();  // read now, not in the child
    int pidfd = -1;
    if (how == Launch::Overlap && kOverlap) {
        Flight& f = free_flight();
        f.plan = plan;
        f.prepared = prepare(f.plan);
        f.prepared.resets = &resets;
        f.stdio = stdio;
        f.report = ExecReport{};
        f.args = ChildArgs{&f.plan, &f.prepared, &f.stdio, &f.report, stdin_tty};
        f.tid = 1;
        const pid_t pid =
            launch(child_entry, f.stack.get() + kFlightStack,
                   CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD, &f.args, &pidfd, &f.tid);
        if (pid < 0) {
            child.error = errno;
            child.what = "cannot create a process";
            f.tid = 0;
            return child;
        }
        Flights& all = flights();
        f.pid = pid;
        f.launched = ++all.launches;
        ++all.busy;
        child.pid = pid;
        child.pidfd = pidfd >= 0 ? pidfd : pidfd_of(pid);
        child.exec_pending = true;
        return child;
    }
    Prepared prepared = prepare(plan);
    prepared.resets = &resets;
    ExecReport report;
    ChildArgs args{&plan, &prepared, &stdio, &report, stdin_tty};
    const pid_t pid = launch(child_entry, g_child_stack + sizeof g_child_stack,
                             CLONE_VM | CLONE_VFORK | SIGCHLD, &args, &pidfd, nullptr);
    if (pid < 0) {
        child.error = errno;
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

ExecResult await_exec(pid_t pid) {
    Flights& all = flights();
    for (auto& slot : all.slots)
        if (slot && slot->pid == pid) land(*slot);
    auto it = all.landed.find(pid);
    if (it == all.landed.end()) return ExecResult::ok();  // not overlapped: told at once
    ExecResult r = std::move(it->second);
    all.landed.erase(it);
    return r;
}

void await_all_execs() {
    Flights& all = flights();
    if (all.busy == 0) return;
    for (auto& slot : all.slots)
        if (slot && slot->pid >= 0) land(*slot);
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
