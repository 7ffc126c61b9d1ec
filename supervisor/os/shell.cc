// The libev shell around the core: see the essay in shell.h.
#include "shell.h"

#include <ev.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>

#include "child.h"
#include "graph.h"
#include "http_server.h"
#include "identity_lookup.h"
#include "log.h"
#include "notify_socket.h"
#include "oops.h"
#include "output.h"
#include "posix_sys.h"
#include "power_button.h"
#include "probes.h"
#include "wait_status.h"

extern char** environ;

namespace sv {

namespace {

// The signals the shell watches in `mode` (core/signal_policy.h), and CHLD.
sigset_t handled_signal_set(RunMode mode) {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : watched_signals(mode)) sigaddset(&set, sig);
    sigaddset(&set, SIGCHLD);
    return set;
}

std::string wall_clock_rfc3339() {
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    ::gmtime_r(&ts.tv_sec, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  ts.tv_nsec / 1000000);
    return buf;
}

std::vector<std::string> current_environment() {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
    return env;
}

// The whole running supervisor: owns the loop's watchers and the core.
class Shell final : public SysHooks, public StatusSource, public NotifySocket::Events {
  public:
    Shell(struct ev_loop* loop, Config config, RunMode mode, std::vector<Limit> inherited_limits)
        : loop_(loop),
          config_(std::move(config)),
          graph_(config_),
          output_(loop),
          logger_([this](std::string line) { output_.own_line(std::move(line)); },
                  wall_clock_rfc3339, config_.supervisor.log_format),
          notify_(loop, *this),
          context_(make_context(std::move(inherited_limits))),
          probes_(
              loop,
              [this](std::size_t i, ProbeRole role, bool ok, const std::string& detail) {
                  supervisor_.on_probe_result(i, role, ok, detail);
                  after_event();
              },
              context_),
          sys_(*this),
          supervisor_(config_, graph_, sys_, logger_, mode, context_),
          mode_(mode) {
        std::vector<std::string> names;
        for (const auto& s : config_.services) names.push_back(s.name);
        output_.set_service_names(names);
        output_.set_shared_destinations(
            std::any_of(config_.services.begin(), config_.services.end(),
                        [](const ServiceConfig& s) { return s.log == LogMode::Inherit; }));
        logger_.set_min_level(mode == RunMode::SingleCommand ? Level::Error : Level::Info);
        set_oops_logger(&logger_);
    }

    ~Shell() {
        set_oops_logger(nullptr);
        for (auto& [pid, w] : exec_pipes_) {
            ev_io_stop(loop_, &w->io);
            ::close(w->io.fd);
        }
        for (auto& w : signal_watchers_) ev_signal_stop(loop_, w.get());
        ev_child_stop(loop_, &child_watcher_);
        ev_timer_stop(loop_, &timer_);
    }

    int run() {
        if (!config_.supervisor.health_listen.empty()) {
            http_ = std::make_unique<HttpServer>(loop_, *this);
            std::string err = http_->listen(config_.supervisor.health_listen);
            if (!err.empty()) {
                // Keep running without the endpoint: the services matter more
                // than the probe, and a developer may run two stacks at once.
                logger_.log(Level::Error, "", "http", err + " (the health endpoint is off)");
                http_.reset();
            }
        }
        for (int sig : watched_signals(mode_)) {
            auto w = std::make_unique<ev_signal>();
            ev_signal_init(w.get(), on_signal_cb, sig);
            w->data = this;
            ev_signal_start(loop_, w.get());
            signal_watchers_.push_back(std::move(w));
        }
        ev_child_init(&child_watcher_, on_child_cb, 0, 0);
        child_watcher_.data = this;
        ev_child_start(loop_, &child_watcher_);
        // Signals that arrived while we were loading (blocked by run())
        // are delivered to libev's handlers from here on.
        const sigset_t handled = handled_signal_set(mode_);
        ::sigprocmask(SIG_UNBLOCK, &handled, nullptr);
        // As a VM's init: the ACPI power button (KEY_POWER) stops as SIGTERM does.
        power_button_ = watch_power_button(loop_, [this]() {
            logger_.log(Level::Info, "", "power_button", "power button pressed");
            deliver_signal(SIGTERM);
        });
        ev_init(&timer_, on_timer_cb);
        timer_.data = this;

        supervisor_.start();
        after_event();
        if (!supervisor_.finished()) ev_run(loop_, 0);

        probes_.stop_all();
        notify_.close_all();
        output_.finish();
        return supervisor_.exit_code();
    }

  private:
    struct ExecPipe {
        ev_io io;
        Shell* shell;
        pid_t pid;
        std::size_t index;
    };

    // What the OS layer learns once, before anything runs: the environment,
    // each service's identity, the notify sockets.
    RunContext make_context(std::vector<Limit> inherited_limits) {
        RunContext c;
        c.inherited_limits = std::move(inherited_limits);
        c.pid1 = ::getpid() == 1;
        c.base_env = current_environment();
        c.setups.resize(config_.services.size());
        for (std::size_t i = 0; i < config_.services.size(); ++i) {
            const ServiceConfig& s = config_.services[i];
            ServiceSetup& setup = c.setups[i];
            setup.identity = lookup_identity(s);
            if (s.ready.kind == ProbeKind::Notify) {
                std::string err;
                setup.notify_socket = notify_.open(i, s.name, err);
                if (setup.notify_socket.empty())
                    setup.error = "cannot create the notify socket: " + err;
            }
        }
        return c;
    }

    // --- SysHooks ---

    void spawned(std::size_t index, pid_t pid, int status_fd, int stdout_fd,
                 int stderr_fd) override {
        auto w = std::make_unique<ExecPipe>();
        w->shell = this;
        w->pid = pid;
        w->index = index;
        ev_io_init(&w->io, on_exec_pipe_cb, status_fd, EV_READ);
        w->io.data = w.get();
        ev_io_start(loop_, &w->io);
        exec_pipes_[pid] = std::move(w);
        output_.attach(index, stdout_fd, stderr_fd);
        notify_.set_service_pid(index, pid);
    }

    void start_probe(std::size_t index, ProbeRole role, const ProbeConfig& probe) override {
        probes_.start(index, role, probe);
    }

    void stop_probe(std::size_t index, ProbeRole role) override { probes_.stop(index, role); }

    // --- StatusSource (the endpoint) ---

    Snapshot snapshot() override { return supervisor_.snapshot(sys_.now()); }
    bool all_ready() override { return supervisor_.all_ready(); }

    // --- NotifySocket::Events ---

    void notify(std::size_t index, bool ready, const std::optional<std::string>& status) override {
        supervisor_.on_notify(index, ready, status);
        after_event();
    }

    // Reads the status pipe of `pid` and tells the core.
    void resolve_exec(pid_t pid) {
        auto it = exec_pipes_.find(pid);
        if (it == exec_pipes_.end()) return;
        std::unique_ptr<ExecPipe> w = std::move(it->second);
        exec_pipes_.erase(it);
        ev_io_stop(loop_, &w->io);
        const ExecResult result =
            read_exec_result(w->io.fd, supervisor_.services()[w->index].plan());
        supervisor_.on_exec_result(pid, result);
    }

    // A service's last words come out before the news of its exit.
    void flush_service_output(pid_t pid) {
        const auto& services = supervisor_.services();
        for (std::size_t i = 0; i < services.size(); ++i)
            if (services[i].pid() == pid) output_.read_available(i);
    }

    // Re-arms the one timer at the core's next deadline, or ends the loop.
    void after_event() noexcept {
        if (supervisor_.finished()) {
            ev_timer_stop(loop_, &timer_);
            ev_break(loop_, EVBREAK_ALL);
            return;
        }
        ev_timer_stop(loop_, &timer_);
        if (auto d = supervisor_.next_deadline()) {
            auto wait = std::chrono::duration<double>(*d - sys_.now()).count();
            if (wait < 0) wait = 0;
            ev_now_update(loop_);
            ev_timer_set(&timer_, wait, 0.);
            ev_timer_start(loop_, &timer_);
        }
    }

    static void on_signal_cb(struct ev_loop*, ev_signal* w, int) noexcept {
        static_cast<Shell*>(w->data)->deliver_signal(w->signum);
    }

    void deliver_signal(int sig) noexcept {
        try {
            supervisor_.on_signal(sig);
            after_event();
        } catch (...) {
            oops("handling a signal");
            after_event();
        }
    }

    static void on_child_cb(struct ev_loop*, ev_child* w, int) noexcept {
        auto* self = static_cast<Shell*>(w->data);
        try {
            const pid_t pid = w->rpid;
            self->sys_.reaped(pid);
            if (self->probes_.on_child_exit(pid, w->rstatus)) {
                self->supervisor_.on_child_exit(pid, decode_wait_status(w->rstatus),
                                                /*orphan=*/false);
            } else {
                // The exit may overtake the exec-status pipe's EOF: settle
                // the exec result first so the core sees them in order.
                self->resolve_exec(pid);
                self->flush_service_output(pid);
                self->supervisor_.on_child_exit(pid, decode_wait_status(w->rstatus));
            }
            self->after_event();
        } catch (...) {
            oops("handling a child's exit");
            self->after_event();
        }
    }

    static void on_exec_pipe_cb(struct ev_loop*, ev_io* w, int) noexcept {
        auto* pipe = static_cast<ExecPipe*>(w->data);
        Shell* self = pipe->shell;
        try {
            self->resolve_exec(pipe->pid);  // destroys `pipe`
            self->after_event();
        } catch (...) {
            oops("reading an exec status");
            self->after_event();
        }
    }

    static void on_timer_cb(struct ev_loop*, ev_timer* w, int) noexcept {
        auto* self = static_cast<Shell*>(w->data);
        try {
            self->supervisor_.on_time(self->sys_.now());
            self->after_event();
        } catch (...) {
            oops("handling a deadline");
            self->after_event();  // the timer must be re-armed
        }
    }

    struct ev_loop* loop_;
    Config config_;
    Graph graph_;
    Output output_;
    Logger logger_;
    NotifySockets notify_;
    RunContext context_;
    Probes probes_;
    PosixSys sys_;
    Supervisor supervisor_;
    RunMode mode_;
    std::unique_ptr<HttpServer> http_;
    std::unique_ptr<PowerButton> power_button_;
    std::vector<std::unique_ptr<ev_signal>> signal_watchers_;
    ev_child child_watcher_;
    ev_timer timer_;
    std::map<pid_t, std::unique_ptr<ExecPipe>> exec_pipes_;
};

}  // namespace

void block_handled_signals(RunMode mode) {
    const sigset_t set = handled_signal_set(mode);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

int run_on_loop(struct ev_loop* loop, Config config, RunMode mode,
                std::vector<Limit> inherited_limits) {
    Shell shell(loop, std::move(config), mode, std::move(inherited_limits));
    return shell.run();
}

}  // namespace sv
