// Readiness and liveness probes on the libev loop (see probes.h and
// probe_internal.h): the registry, the polling schedule, exec probes and the
// notify plumbing. tcp/http live in probe_net.cc, the sd_notify socket in
// probe_notify.cc.
//
// Everything runs on the loop, with no threads and no blocking calls, so a
// hung probe target can never stall the supervisor: every attempt is
// bounded by an ev_timer, and a timed-out exec probe is SIGKILLed with its
// whole process group.
//
// Exec probes are children of ours, but the loop owns reaping (one ev_child
// on pid 0, STYLE §7). It hands every reaped pid to on_child_exit() before
// the core sees it; we keep a pid -> probe map for running attempts, and a
// set of pids whose verdict no longer matters (timed out, stopped) so their
// exit is swallowed quietly instead of reaching the core as an "orphan".
//
// Notify: the socket of a service exists from before its spawn (its path
// goes into $NOTIFY_SOCKET) until shutdown, across restarts; the Ready
// "probe" of kind notify only decides whether a READY=1 is reported now or
// remembered until start() (a fast service may say READY=1 before the core
// has asked).
#include "probes.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "exit_status.h"
#include "probe_internal.h"
#include "signals.h"

extern char** environ;

namespace sv {

using probe_detail::NotifySocket;
using probe_detail::PollingProbe;
using probe_detail::Probe;
using probe_detail::ProbeHost;

namespace probe_detail {

namespace {

// A zero interval would retry a refused connect in a tight loop; never
// start attempts closer together than this.
constexpr double kMinGap = 0.01;

double seconds(Duration d) {
    return static_cast<double>(d.count()) / 1000.0;
}

}  // namespace

// --- PollingProbe: the schedule ---

PollingProbe::PollingProbe(ProbeHost& host, std::size_t index, ProbeRole role,
                           const ProbeConfig& config)
    : host_(host), index_(index), role_(role), config_(config) {
    ev_init(&interval_timer_, on_interval);
    interval_timer_.data = this;
    ev_init(&timeout_timer_, on_timeout);
    timeout_timer_.data = this;
}

PollingProbe::~PollingProbe() {
    ev_timer_stop(host_.loop(), &interval_timer_);
    ev_timer_stop(host_.loop(), &timeout_timer_);
}

void PollingProbe::begin() {
    schedule(role_ == ProbeRole::Ready ? 0.0 : std::max(seconds(config_.interval), kMinGap));
}

void PollingProbe::schedule(double delay) {
    ev_timer_stop(host_.loop(), &interval_timer_);
    ev_timer_set(&interval_timer_, delay, 0.0);
    ev_timer_start(host_.loop(), &interval_timer_);
}

void PollingProbe::on_interval(struct ev_loop* loop, ev_timer* w, int) noexcept {
    auto* self = static_cast<PollingProbe*>(w->data);
    try {
        self->running_ = true;
        self->started_ = ev_now(loop);
        ev_timer_set(&self->timeout_timer_, seconds(self->config_.timeout), 0.0);
        ev_timer_start(loop, &self->timeout_timer_);
        self->start_attempt();  // may complete and destroy *self: nothing after
    } catch (...) {
        // bad_alloc: this attempt never completes; its timeout will.
    }
}

void PollingProbe::on_timeout(struct ev_loop*, ev_timer* w, int) noexcept {
    auto* self = static_cast<PollingProbe*>(w->data);
    try {
        self->cancel_attempt();
        self->complete(false, "timed out after " + format_duration(self->config_.timeout));
    } catch (...) {
    }
}

void PollingProbe::complete(bool ok, std::string detail) {
    struct ev_loop* loop = host_.loop();
    ev_timer_stop(loop, &timeout_timer_);
    running_ = false;
    // Start-to-start: an attempt that took longer than the interval is
    // followed at once (after kMinGap), never overlapped.
    double next = seconds(config_.interval) - (ev_now(loop) - started_);
    schedule(std::max(next, kMinGap));
    // Last: the core may destroy this probe while handling the verdict.
    ProbeHost& host = host_;
    const std::size_t index = index_;
    const ProbeRole role = role_;
    host.report(index, role, ok, detail);
}

}  // namespace probe_detail

namespace {

// --- exec probes ---

class ExecProbe;

// The registry of running exec attempts, shared by all ExecProbes.
struct ExecPids {
    std::map<pid_t, ExecProbe*> running;
    std::set<pid_t> abandoned;  // killed or stopped: swallow their exit quietly
};

// Builds the places execve() will try, before fork: the child may only use
// async-signal-safe calls, and execvp() searches PATH with its own buffers.
std::vector<std::string> exec_candidates(const std::string& file) {
    if (file.find('/') != std::string::npos) return {file};
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    std::vector<std::string> out;
    while (true) {
        std::size_t colon = dirs.find(':');
        std::string_view dir = dirs.substr(0, colon);
        // An empty PATH entry means the current directory, as in execvp().
        out.push_back((dir.empty() ? std::string(".") : std::string(dir)) + "/" + file);
        if (colon == std::string_view::npos) break;
        dirs.remove_prefix(colon + 1);
    }
    return out;
}

class ExecProbe final : public PollingProbe {
  public:
    ExecProbe(ProbeHost& host, ExecPids& pids, std::size_t index, ProbeRole role,
              const ProbeConfig& config)
        : PollingProbe(host, index, role, config), pids_(pids) {}
    ~ExecProbe() override { cancel_attempt(); }

    void on_exit(int wait_status) {
        pids_.running.erase(pid_);
        // Whatever the probe left in its group goes with it. The pid cannot
        // name another group yet: it was reaped just now, in this iteration,
        // and Linux does not hand out a pid still used as a process group id.
        ::kill(-pid_, SIGKILL);
        pid_ = -1;
        ExitStatus st = ExitStatus::from_wait_status(wait_status);
        bool ok = !st.signaled && st.value == 0;
        complete(ok, st.signaled ? "killed by signal " + signal_name(st.value)
                                 : "exit status " + std::to_string(st.value));
    }

  protected:
    void start_attempt() override {
        int err = 0;
        pid_t pid = spawn(err);
        if (pid < 0) {
            complete(false, "cannot start probe: " + std::string(std::strerror(err)));
            return;
        }
        pid_ = pid;
        pids_.running[pid] = this;
    }

    void cancel_attempt() override {
        if (pid_ <= 0) return;
        // The child may not have reached setsid() yet: signal the pid too.
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
        pids_.running.erase(pid_);
        pids_.abandoned.insert(pid_);
        pid_ = -1;
    }

  private:
    // Fork and exec with the same discipline as services: all signals
    // blocked around fork so no handler runs in the child, dispositions and
    // mask reset, its own session (so SIGKILL reaches its whole group),
    // stdio on /dev/null, every inherited fd close-on-exec.
    pid_t spawn(int& err) {
        const auto& argv = config_.argv;
        if (argv.empty()) {
            err = EINVAL;
            return -1;
        }
        std::vector<std::string> candidates = exec_candidates(argv[0]);
        std::vector<char*> cargv;
        for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
        cargv.push_back(nullptr);
        int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);

        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pid_t pid = ::fork();
        if (pid == 0) child(candidates, cargv.data(), devnull);  // does not return
        err = errno;
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        if (devnull >= 0) ::close(devnull);
        return pid;
    }

    // Async-signal-safe calls only from here on.
    [[noreturn]] static void child(const std::vector<std::string>& candidates, char** argv,
                                   int devnull) {
        struct sigaction dfl = {};
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; ++sig) {
            if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
        }
        ::setsid();
        if (devnull >= 0) {
            ::dup2(devnull, 0);
            ::dup2(devnull, 1);
            ::dup2(devnull, 2);
        }
        // Belt and braces: whatever someone opened without O_CLOEXEC.
        ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        int err = ENOENT;
        for (const std::string& path : candidates) {
            ::execve(path.c_str(), argv, environ);
            // As execvp(): remember "found but not executable", keep looking.
            if (errno == EACCES) {
                err = EACCES;
            } else if (errno != ENOENT && errno != ENOTDIR) {
                err = errno;
                break;
            }
        }
        ::_exit(exec_failure_exit_code(err));
    }

    ExecPids& pids_;
    pid_t pid_ = -1;
};

// --- notify: the Ready "probe" of kind notify ---

// Reports READY=1 to the core. When the service said it before start(),
// the report is deferred to a zero timer, since start() runs inside the
// core's own transition and must not call back into it.
class NotifyProbe final : public Probe {
  public:
    NotifyProbe(ProbeHost& host, std::size_t index, ProbeRole role, bool said_ready)
        : host_(host), index_(index), role_(role), said_ready_(said_ready) {
        ev_timer_init(&deferred_, on_deferred, 0.0, 0.0);
        deferred_.data = this;
    }
    ~NotifyProbe() override { ev_timer_stop(host_.loop(), &deferred_); }

    void begin() override {
        if (said_ready_) ev_timer_start(host_.loop(), &deferred_);
    }

    // A READY=1 from the service's processes, while this probe runs.
    void ready() {
        ev_timer_stop(host_.loop(), &deferred_);
        if (role_ != ProbeRole::Ready) return;  // notify means nothing for liveness
        report();
    }

  private:
    static void on_deferred(struct ev_loop*, ev_timer* w, int) noexcept {
        auto* self = static_cast<NotifyProbe*>(w->data);
        try {
            if (self->role_ == ProbeRole::Ready) self->report();
        } catch (...) {
        }
    }
    void report() {
        ProbeHost& host = host_;  // last call: the core may destroy *this
        host.report(index_, role_, true, "READY=1");
    }

    ProbeHost& host_;
    std::size_t index_;
    ProbeRole role_;
    bool said_ready_;  // READY=1 arrived before start()
    ev_timer deferred_;
};

}  // namespace

// --- the registry ---

struct Probes::Impl final : ProbeHost, NotifySocket::Events {
    struct Slot {
        pid_t pid = 0;
        bool said_ready = false;  // the current pid sent READY=1
        std::unique_ptr<NotifySocket> socket;
    };
    using Key = std::pair<std::size_t, ProbeRole>;

    Impl(struct ev_loop* l, ResultFn r, StatusFn s)
        : loop_(l), on_result(std::move(r)), on_status(std::move(s)) {}
    ~Impl() { stop_all(); }

    struct ev_loop* loop() override {
        return loop_;
    }

    void report(std::size_t index, ProbeRole role, bool ok, const std::string& detail) override {
        if (on_result) on_result(index, role, ok, detail);
    }

    void notify_ready(std::size_t index) override {
        slot(index).said_ready = true;
        auto it = probes.find({index, ProbeRole::Ready});
        if (it == probes.end()) return;  // remembered until start()
        if (auto* n = dynamic_cast<NotifyProbe*>(it->second.get())) n->ready();
    }

    void notify_status(std::size_t index, std::string status) override {
        if (on_status) on_status(index, std::move(status));
    }

    Slot& slot(std::size_t index) {
        if (index >= slots.size()) slots.resize(index + 1);
        return slots[index];
    }

    void stop(std::size_t index, ProbeRole role) {
        auto it = probes.find({index, role});
        if (it == probes.end()) return;
        // Move out first: the destructor may run code that looks at the map.
        std::unique_ptr<Probe> dying = std::move(it->second);
        probes.erase(it);
    }

    void stop_all() {
        std::map<Key, std::unique_ptr<Probe>> dying;
        dying.swap(probes);
        dying.clear();
        for (Slot& s : slots) {
            s.socket.reset();  // unlinks the socket file
            s.said_ready = false;
        }
        if (!notify_dir.empty()) {
            ::rmdir(notify_dir.c_str());
            notify_dir.clear();
        }
    }

    std::string make_notify_dir(std::string& error);

    struct ev_loop* loop_;
    ResultFn on_result;
    StatusFn on_status;
    std::map<Key, std::unique_ptr<Probe>> probes;
    ExecPids exec_pids;
    std::vector<Slot> slots;
    std::string notify_dir;
};

// A private directory for the notify sockets of this supervisor: mkdtemp,
// so two supervisors (both PID 1 of their namespaces, sharing /tmp) never
// collide. Mode 0711 rather than 0700: a service running as another user
// must reach its socket; the directory stays unlistable, and a datagram is
// accepted only from the service's own processes anyway.
std::string Probes::Impl::make_notify_dir(std::string& error) {
    if (!notify_dir.empty()) return notify_dir;
    std::vector<std::string> bases;
    if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x) bases.emplace_back(x);
    bases.emplace_back("/run");
    if (const char* t = std::getenv("TMPDIR"); t && *t) bases.emplace_back(t);
    bases.emplace_back("/tmp");
    int last_error = 0;
    for (const std::string& base : bases) {
        std::string templ = base + "/supervisor.XXXXXX";
        if (::mkdtemp(templ.data()) == nullptr) {
            last_error = errno;
            continue;
        }
        ::chmod(templ.c_str(), 0711);
        notify_dir = templ;
        return notify_dir;
    }
    error = "cannot create a directory for notify sockets in /run or /tmp: " +
            std::string(std::strerror(last_error));
    return "";
}

Probes::Probes(struct ev_loop* loop, ResultFn on_result, StatusFn on_status)
    : impl_(std::make_unique<Impl>(loop, std::move(on_result), std::move(on_status))) {}

Probes::~Probes() = default;

void Probes::start(std::size_t index, ProbeRole role, const ProbeConfig& probe) {
    Impl& m = *impl_;
    m.stop(index, role);
    std::unique_ptr<Probe> p;
    switch (probe.kind) {
        case ProbeKind::None:
            return;
        case ProbeKind::Tcp:
        case ProbeKind::Http:
            p = probe_detail::make_net_probe(m, index, role, probe);
            break;
        case ProbeKind::Exec:
            p = std::make_unique<ExecProbe>(m, m.exec_pids, index, role, probe);
            break;
        case ProbeKind::Notify:
            p = std::make_unique<NotifyProbe>(m, index, role, m.slot(index).said_ready);
            break;
    }
    if (!p) return;
    Probe& ref = *p;
    m.probes[{index, role}] = std::move(p);
    ref.begin();
}

void Probes::stop(std::size_t index, ProbeRole role) {
    impl_->stop(index, role);
}

std::string Probes::notify_socket(std::size_t index, const std::string& service_name,
                                  std::string& error) {
    Impl& m = *impl_;
    Impl::Slot& s = m.slot(index);
    if (s.socket) return s.socket->path();
    std::string dir = m.make_notify_dir(error);
    if (dir.empty()) return "";
    // Named after the service for whoever looks; characters that do not
    // belong in a file name are replaced. Too long for sun_path: the index.
    std::string name;
    for (char c : service_name) {
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.';
        name += plain ? c : '_';
    }
    std::string path = dir + "/" + name + ".sock";
    if (name.empty() || name[0] == '.' || path.size() >= 100) {
        path = dir + "/" + std::to_string(index) + ".sock";
    }
    s.socket = NotifySocket::open(m.loop_, m, index, path, error);
    if (!s.socket) return "";
    s.socket->set_service_pid(s.pid);
    return path;
}

void Probes::set_service_pid(std::size_t index, pid_t pid) {
    Impl::Slot& s = impl_->slot(index);
    // A new process: what the previous one said no longer holds.
    if (s.pid != pid) s.said_ready = false;
    s.pid = pid;
    if (s.socket) s.socket->set_service_pid(pid);
}

bool Probes::on_child_exit(pid_t pid, int wait_status) {
    ExecPids& pids = impl_->exec_pids;
    if (pids.abandoned.erase(pid) > 0) return true;
    auto it = pids.running.find(pid);
    if (it == pids.running.end()) return false;
    it->second->on_exit(wait_status);  // reports last; may destroy the probe
    return true;
}

void Probes::stop_all() {
    impl_->stop_all();
}

}  // namespace sv
