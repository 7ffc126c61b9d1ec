// The real Sys (see sys.h). The spawn discipline, after nghttpx, tini and
// dinit's run-child-proc:
//
//   1. Everything that allocates or may take a lock (argv/envp arrays, user
//      and group lookups through NSS, pipes, the notify socket) happens in the
//      parent before fork; the child only makes async-signal-safe calls.
//   2. All signals are blocked around fork, so no handler runs in the child
//      before it has reset every disposition to the default and its mask.
//   3. The child leaves our process group: setsid() for configured services
//      (their stop signal and SIGKILL then reach the whole tree), or
//      setpgid() + tcsetpgrp() in single-command mode so the command owns the
//      terminal as it would under tini.
//   4. A failed step writes {stage, errno} into a close-on-exec pipe and
//      _exit(127)s; a successful exec closes the pipe with nothing written.
//      The parent reads EOF (started) or the report (failed) at once, so a
//      missing binary is reported now, not as a mysterious exit 127 later.
#include "sys_posix.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "output.h"
#include "probes.h"

extern char** environ;

namespace sv {

namespace {

bool all_digits(const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// Resolved identity to switch to in the child.
struct Identity {
    bool set_user = false;
    bool set_group = false;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
    bool set_groups = false;
    std::string home;
    std::string name;
};

// Resolves user/group names in the parent (NSS is not async-signal-safe).
// Returns an error text, empty on success.
std::string resolve_identity(const ServiceConfig& svc, Identity& id) {
    if (!svc.user.empty()) {
        struct passwd* pw = all_digits(svc.user)
                                ? ::getpwuid(static_cast<uid_t>(std::stoul(svc.user)))
                                : ::getpwnam(svc.user.c_str());
        if (!pw && !all_digits(svc.user)) return "unknown user '" + svc.user + "'";
        id.set_user = true;
        id.uid = pw ? pw->pw_uid : static_cast<uid_t>(std::stoul(svc.user));
        if (pw) {
            id.gid = pw->pw_gid;
            id.set_group = true;
            id.home = pw->pw_dir;
            id.name = pw->pw_name;
            int n = 64;
            std::vector<gid_t> groups(static_cast<std::size_t>(n));
            if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n) < 0) {
                groups.resize(static_cast<std::size_t>(n));
                ::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n);
            }
            groups.resize(static_cast<std::size_t>(n));
            id.groups = std::move(groups);
        } else {
            id.gid = static_cast<gid_t>(id.uid);
        }
        id.set_groups = true;
    }
    if (!svc.group.empty()) {
        struct group* gr = all_digits(svc.group)
                               ? ::getgrgid(static_cast<gid_t>(std::stoul(svc.group)))
                               : ::getgrnam(svc.group.c_str());
        if (!gr && !all_digits(svc.group)) return "unknown group '" + svc.group + "'";
        id.gid = gr ? gr->gr_gid : static_cast<gid_t>(std::stoul(svc.group));
        id.set_group = true;
        if (!id.set_user) {
            id.groups = {id.gid};
            id.set_groups = true;
        }
    }
    return {};
}

std::vector<std::string> build_env(const ServiceConfig& svc, const Identity& id,
                                   const std::string& notify_socket) {
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        const char* eq = std::strchr(*e, '=');
        if (!eq) continue;
        env[std::string(*e, static_cast<std::size_t>(eq - *e))] = eq + 1;
    }
    env.erase("NOTIFY_SOCKET");  // never leak our own supervisor's socket to a service
    if (id.set_user && !id.name.empty()) {
        env["USER"] = id.name;
        env["LOGNAME"] = id.name;
        env["HOME"] = id.home;
    }
    if (!notify_socket.empty()) env["NOTIFY_SOCKET"] = notify_socket;
    for (const auto& [k, v] : svc.env) env[k] = v;
    std::vector<std::string> out;
    out.reserve(env.size());
    for (auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
}

// Async-signal-safe failure report from the child.
[[noreturn]] void child_fail(int status_fd, ExecStage stage) {
    ExecReport r{static_cast<int>(stage), errno};
    ssize_t ignored = ::write(status_fd, &r, sizeof r);
    (void)ignored;
    ::_exit(127);
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

}  // namespace

std::string exec_stage_text(ExecStage stage, const ServiceConfig& svc) {
    switch (stage) {
        case ExecStage::Exec:
            return "cannot execute " + (svc.argv.empty() ? "" : svc.argv[0]);
        case ExecStage::Chdir:
            return "cannot change directory to " + svc.workdir;
        case ExecStage::Groups:
            return "cannot set supplementary groups";
        case ExecStage::Setgid:
            return "cannot switch to group " + (svc.group.empty() ? svc.user : svc.group);
        case ExecStage::Setuid:
            return "cannot switch to user " + svc.user;
        case ExecStage::Session:
            return "cannot create a process group";
        case ExecStage::Stdio:
            return "cannot set up stdin/stdout/stderr";
    }
    return "cannot execute";
}

PosixSys::PosixSys(Output& output, Probes& probes, WatchExecPipe watch_exec_pipe)
    : output_(output), probes_(probes), watch_exec_pipe_(std::move(watch_exec_pipe)) {}

TimePoint PosixSys::now() const {
    return Clock::now();
}

SpawnResult PosixSys::spawn(std::size_t index, const ServiceConfig& svc, bool foreground) {
    SpawnResult result;
    Identity id;
    if (std::string err = resolve_identity(svc, id); !err.empty()) {
        result.what = err;
        return result;
    }
    std::string notify_path;
    if (svc.ready.kind == ProbeKind::Notify) {
        std::string err;
        notify_path = probes_.notify_socket(index, svc.name, err);
        if (notify_path.empty()) {
            result.what = "cannot create the notify socket: " + err;
            return result;
        }
    }
    std::vector<std::string> env = build_env(svc, id, notify_path);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = svc.argv;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int status_pipe[2] = {-1, -1};
    int out_pipe[2] = {-1, -1};
    int err_pipe[2] = {-1, -1};
    int devnull = -1;
    auto cleanup = [&]() {
        for (int* p : {status_pipe, out_pipe, err_pipe}) {
            close_fd(p[0]);
            close_fd(p[1]);
        }
        close_fd(devnull);
    };
    if (::pipe2(status_pipe, O_CLOEXEC) < 0 ||
        (svc.log == LogMode::Prefix &&
         (::pipe2(out_pipe, O_CLOEXEC) < 0 || ::pipe2(err_pipe, O_CLOEXEC) < 0))) {
        result.error = errno;
        result.what = "cannot create pipes";
        cleanup();
        return result;
    }
    // A minimal root may lack /dev/null: say so rather than blame the pipes.
    if ((devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
        result.error = errno;
        result.what = "cannot open /dev/null";
        cleanup();
        return result;
    }
    const int child_out = svc.log == LogMode::Prefix ? out_pipe[1]
                          : svc.log == LogMode::Null ? devnull
                                                     : STDOUT_FILENO;
    const int child_err = svc.log == LogMode::Prefix ? err_pipe[1]
                          : svc.log == LogMode::Null ? devnull
                                                     : STDERR_FILENO;
    const int child_in = foreground ? STDIN_FILENO : devnull;
    const char* workdir = svc.workdir.empty() ? nullptr : svc.workdir.c_str();
    const bool stdin_tty = foreground && ::isatty(STDIN_FILENO);

    sigset_t all, old;
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, &old);
    const pid_t pid = ::fork();
    if (pid == 0) {
        // Child: async-signal-safe calls only from here on.
        const int sfd = status_pipe[1];
        struct sigaction dfl;
        std::memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);
        if (foreground) {
            if (::setpgid(0, 0) < 0) child_fail(sfd, ExecStage::Session);
            // Signals are still blocked, so taking the terminal's foreground
            // from a background group raises no SIGTTOU.
            if (stdin_tty) (void)::tcsetpgrp(STDIN_FILENO, ::getpid());
        } else if (::setsid() < 0) {
            child_fail(sfd, ExecStage::Session);
        }
        if ((child_in != STDIN_FILENO && ::dup2(child_in, STDIN_FILENO) < 0) ||
            (child_out != STDOUT_FILENO && ::dup2(child_out, STDOUT_FILENO) < 0) ||
            (child_err != STDERR_FILENO && ::dup2(child_err, STDERR_FILENO) < 0))
            child_fail(sfd, ExecStage::Stdio);
        if (workdir && ::chdir(workdir) < 0) child_fail(sfd, ExecStage::Chdir);
        if (id.set_groups && ::setgroups(id.groups.size(), id.groups.data()) < 0)
            child_fail(sfd, ExecStage::Groups);
        if (id.set_group && ::setgid(id.gid) < 0) child_fail(sfd, ExecStage::Setgid);
        if (id.set_user && ::setuid(id.uid) < 0) child_fail(sfd, ExecStage::Setuid);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execvpe(argv[0], argv.data(), envp.data());
        child_fail(sfd, ExecStage::Exec);
    }
    const int fork_errno = errno;
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    close_fd(status_pipe[1]);
    close_fd(out_pipe[1]);
    close_fd(err_pipe[1]);
    close_fd(devnull);
    if (pid < 0) {
        result.error = fork_errno;
        result.what = "fork failed";
        cleanup();
        return result;
    }
    // Also set the group from the parent, so a signal sent right after this
    // returns reaches the child even if it has not run setpgid() yet.
    if (foreground) (void)::setpgid(pid, pid);
    result.pid = pid;
    watch_exec_pipe_(pid, status_pipe[0]);
    if (svc.log == LogMode::Prefix) output_.attach(index, out_pipe[0], err_pipe[0]);
    probes_.set_service_pid(index, pid);
    return result;
}

void PosixSys::kill_group(pid_t pgid, int sig) {
    // Never let a zero or -1 slip through: kill(0) would hit our own group and
    // kill(-(-1)) nonsense; a process group id is always > 1 here.
    if (pgid <= 1) return;
    if (::kill(-pgid, sig) < 0 && errno == ESRCH) {
        // The leader (pid == pgid) may not have reached setsid() yet; its
        // signals are blocked until exec, so this one is delivered then.
        ::kill(pgid, sig);
    }
}

bool PosixSys::group_alive(pid_t pgid) {
    if (pgid <= 1) return false;
    return ::kill(-pgid, 0) == 0 || errno == EPERM;
}

void PosixSys::sweep(int sig) {
    if (::getpid() == 1) {
        // Inside our own PID namespace (or as the machine's init) -1 reaches
        // every process but ourselves: the kernel would kill them anyway when
        // we exit, and this gives them their stop signal first.
        ::kill(-1, sig);
        return;
    }
    // Not PID 1: only our own descendants, found through /proc's ppid links.
    std::map<pid_t, std::vector<pid_t>> children;
    if (DIR* d = ::opendir("/proc")) {
        while (struct dirent* e = ::readdir(d)) {
            if (!all_digits(e->d_name)) continue;
            std::string path = std::string("/proc/") + e->d_name + "/stat";
            int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            char buf[512];
            ssize_t n = ::read(fd, buf, sizeof buf - 1);
            ::close(fd);
            if (n <= 0) continue;
            buf[n] = '\0';
            // "pid (comm) state ppid ...": comm may hold spaces and parens.
            const char* rp = std::strrchr(buf, ')');
            if (!rp) continue;
            char state = 0;
            int ppid = 0;
            if (std::sscanf(rp + 1, " %c %d", &state, &ppid) != 2) continue;
            children[ppid].push_back(static_cast<pid_t>(std::atoi(e->d_name)));
        }
        ::closedir(d);
    }
    std::vector<pid_t> todo{::getpid()};
    while (!todo.empty()) {
        pid_t p = todo.back();
        todo.pop_back();
        for (pid_t c : children[p]) {
            ::kill(c, sig);
            todo.push_back(c);
        }
    }
}

bool PosixSys::has_children() {
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    // WNOWAIT: only look; libev's SIGCHLD handler does the reaping.
    return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

void PosixSys::start_probe(std::size_t index, ProbeRole role, const ProbeConfig& probe) {
    probes_.start(index, role, probe);
}

void PosixSys::stop_probe(std::size_t index, ProbeRole role) {
    probes_.stop(index, role);
}

}  // namespace sv
