// The child routine: see child.h.
#include "child.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
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
    // Sized once and filled by index: push_back, left a call by -Os, was
    // 54 instructions a variable, most of a 500-service start's preparing.
    p.envp.resize(plan.env.size_hint() + 1);
    std::size_t n = 0;
    plan.env.for_each([&](const char* e) { p.envp[n++] = const_cast<char*>(e); });
    p.envp.resize(n + 1);  // the last one nullptr
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
// survive exec. Asked once, at the first spawn (the dispositions are
// settled by then), one sigaction() per signal: a fresh static process's
// first read of /proc/self/status (its /proc dentries made on the way)
// took 16-18 us against 8.5 us for the 62 queries, and needs no /proc.
struct SignalsToReset {
    int list[NSIG] = {};
    int count = 0;
};

const SignalsToReset& signals_to_reset() {
    static const SignalsToReset resets = [] {
        SignalsToReset r;
        const int saved_errno = errno;  // a spawn leaves errno as it was
        for (int s = 1; s < NSIG && s <= 64; ++s) {
            if (s == SIGKILL || s == SIGSTOP) continue;
            struct sigaction now;
            // Refused (the C library's own real-time signals): reset anyway.
            const bool known = ::sigaction(s, nullptr, &now) == 0;
            if (!known || now.sa_handler != SIG_DFL) r.list[r.count++] = s;
        }
        errno = saved_errno;
        return r;
    }();
    return resets;
}

// The child's side, between clone and exec. Everything in it runs on the
// child's own stack, in our memory, possibly while we run on: its steps are
// child_syscalls.h's (no C library call where we run beside it), there is
// no sanitizer bookkeeping, and nothing of ours is written but the report.
#define SV_CHILD_SIDE __attribute__((no_sanitize("address", "undefined")))

[[noreturn]] SV_CHILD_SIDE void child_fail(ExecReport* out, ExecStage stage, int error,
                                           int detail = 0) {
    out->stage = static_cast<int>(stage);
    out->error = error;
    out->detail = detail;
    child_sys::exit_now(127);
}

[[noreturn]] SV_CHILD_SIDE void run_child(const SpawnPlan& plan, Prepared& p,
                                          const ChildStdio& stdio, ExecReport* report,
                                          bool stdin_tty) {
    namespace step = child_sys;
    const SignalsToReset& resets = *p.resets;
    for (int i = 0; i < resets.count; ++i) (void)step::default_action(resets.list[i]);
    if (plan.foreground) {
        if (const int e = step::own_group()) child_fail(report, ExecStage::Session, e);
        // Signals are still blocked, so taking the terminal's foreground
        // from a background group raises no SIGTTOU.
        if (stdin_tty) step::take_terminal(STDIN_FILENO);
    } else if (const int e = step::new_session()) {
        child_fail(report, ExecStage::Session, e);
    }
    const int moves[3][2] = {
        {stdio.in, STDIN_FILENO}, {stdio.out, STDOUT_FILENO}, {stdio.err, STDERR_FILENO}};
    for (const auto& m : moves)
        if (m[0] >= 0 && m[0] != m[1])
            if (const int e = step::move_fd(m[0], m[1])) child_fail(report, ExecStage::Stdio, e);
    // Whatever we hold or inherited without O_CLOEXEC stays out of the
    // program. close_range(CLOEXEC) needs Linux 5.11; before, one fcntl()
    // per possible descriptor.
    if (step::cloexec_from(3) != 0)
        for (int fd = 3; fd < p.max_fd; ++fd) step::set_cloexec(fd);
    if (p.workdir)
        if (const int e = step::change_dir(p.workdir)) child_fail(report, ExecStage::Chdir, e);
    // Before the identity changes: raising a hard limit needs the privilege
    // that setuid() drops.
    for (std::size_t i = 0; i < p.limits.size(); ++i)
        if (const int e = step::set_limit(p.limits[i].first, &p.limits[i].second))
            child_fail(report, ExecStage::Limit, e, static_cast<int>(i));
    if (plan.umask) step::set_umask(static_cast<mode_t>(*plan.umask));
    const Identity& id = plan.identity;
    if (id.set_groups)
        if (const int e = step::set_groups(p.groups.size(), p.groups.data()))
            child_fail(report, ExecStage::Groups, e);
    if (id.set_group)
        if (const int e = step::set_gid(static_cast<gid_t>(id.gid)))
            child_fail(report, ExecStage::Setgid, e);
    if (id.set_user)
        if (const int e = step::set_uid(static_cast<uid_t>(id.uid)))
            child_fail(report, ExecStage::Setuid, e);
    step::unblock_all();
    // As execvp(): "found but not executable" is remembered while the
    // search goes on; "not found" goes on quietly; anything else stops it.
    int error = ENOENT;
    for (const char* path : p.paths) {
        const int e = step::exec(path, p.argv.data(), p.envp.data());
        if (e == ENOEXEC) {
            p.sh_argv[1] = const_cast<char*>(path);
            (void)step::exec(p.sh_argv[0], p.sh_argv.data(), p.envp.data());
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
#define SV_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer) || __has_feature(hwaddress_sanitizer)
#define SV_SANITIZED 1
#endif
#endif
#ifdef SV_SANITIZED
constexpr bool kOverlap = false;
#else
constexpr bool kOverlap = child_sys::kNative;
#endif

// And where the clone itself is refused: qemu-user takes CLONE_VM without
// CLONE_VFORK for a thread and refuses it (EINVAL), and Valgrind stops the
// whole run on it ("Unsupported clone() flags"), so under Valgrind (which
// puts its vgpreload library in LD_PRELOAD, even for a static binary) we
// never try.
bool g_overlap_refused = false;

bool overlap_available() {
    static const bool valgrind = [] {
        const char* preload = std::getenv("LD_PRELOAD");
        return preload != nullptr && std::strstr(preload, "vgpreload") != nullptr;
    }();
    return kOverlap && !valgrind && !g_overlap_refused;
}

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
    // Never destroyed: at exit() a child may still be before its exec,
    // reading its plan and running on its stack.
    static Flights& f = *new Flights;
    return f;
}

// Waits until `f`'s child has exec'd or exited, keeps its outcome and frees
// the slot.
void land(Flight& f) {
    int v;
    while ((v = __atomic_load_n(&f.tid, __ATOMIC_ACQUIRE)) != 0)
        ::syscall(SYS_futex, &f.tid, FUTEX_WAIT, v, nullptr, nullptr, 0);
    Flights& all = flights();
    const pid_t pid = f.pid;
    f.pid = -1;  // free first: an allocation failure below must not keep the slot
    --all.busy;
    all.landed[pid] = exec_result(f.report, f.plan);
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

// pidfd null: no pidfd asked for.
pid_t launch(int (*entry)(void*), char* stack_top, int flags, ChildArgs* args, int* pidfd,
             int* tid) {
    sigset_t all, old;
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, &old);
    pid_t pid = -1;
    if (pidfd) {
        *pidfd = -1;
        pid = ::clone(entry, stack_top, flags | CLONE_PIDFD, args, pidfd, nullptr, tid);
    }
    if (!pidfd || (pid < 0 && errno == EINVAL))
        pid = ::clone(entry, stack_top, flags, args, nullptr, nullptr, tid);
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
// tcsetpgrp or close_range step. CLONE_PIDFD hands us a pidfd, when asked
// for, in the same call (Linux >= 5.2; pidfd_open() where it is refused).
//
// Waiting (CLONE_VFORK) we resume knowing how the exec went. Overlapped, we
// go on at once (the next service's clone while this one execs on the
// other CPU) and learn it from await_exec(), before the loop waits again.
Child start_child(const SpawnPlan& plan, const ChildStdio& stdio, Launch how, Pidfd want) {
    Child child;
    const bool stdin_tty = plan.foreground && ::isatty(STDIN_FILENO);
    const SignalsToReset& resets = signals_to_reset();  // read now, not in the child
    int pidfd = -1;
    int* const pidfd_out = want == Pidfd::Want ? &pidfd : nullptr;
    const auto pidfd_for = [&](pid_t pid) {
        return want == Pidfd::None ? -1 : pidfd >= 0 ? pidfd : pidfd_of(pid);
    };
    if (how == Launch::Overlap && overlap_available()) {
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
                   CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD, &f.args, pidfd_out, &f.tid);
        if (pid >= 0) {
            Flights& all = flights();
            f.pid = pid;
            f.launched = ++all.launches;
            ++all.busy;
            child.pid = pid;
            child.pidfd = pidfd_for(pid);
            child.exec_pending = true;
            return child;
        }
        f.tid = 0;
        if (errno != EINVAL && errno != ENOSYS) {
            child.error = errno;
            child.what = "cannot create a process";
            return child;
        }
        g_overlap_refused = true;  // and launched waiting, below, from now on
    }
    Prepared prepared = prepare(plan);
    prepared.resets = &resets;
    ExecReport report;
    ChildArgs args{&plan, &prepared, &stdio, &report, stdin_tty};
    const pid_t pid = launch(child_entry, g_child_stack + sizeof g_child_stack,
                             CLONE_VM | CLONE_VFORK | SIGCHLD, &args, pidfd_out, nullptr);
    if (pid < 0) {
        child.error = errno;
        child.what = "cannot create a process";
        return child;
    }
    // Nothing to do for the group: with CLONE_VFORK the child has made it
    // (or failed) before we resume.
    child.pid = pid;
    child.pidfd = pidfd_for(pid);
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
