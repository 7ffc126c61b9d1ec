// The libev shell around the core: see the essay in event_loop.h.
#include "event_loop.h"

#include <ev.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "graph.h"
#include "http_server.h"
#include "init.h"
#include "log.h"
#include "output.h"
#include "power_button.h"
#include "probes.h"
#include "supervisor.h"
#include "sys_posix.h"

namespace sv {

namespace {

// Signals the supervisor acts on: the first two stop, the rest are forwarded.
constexpr int kHandledSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

sigset_t handled_signal_set() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kHandledSignals) sigaddset(&set, sig);
    sigaddset(&set, SIGCHLD);
    return set;
}

// From the first instruction of `run` until the watchers exist, a SIGTERM
// must not be lost (as PID 1 an unhandled signal is simply dropped) nor kill
// us (as a plain process): keep such signals pending until libev handles them.
void block_handled_signals() {
    sigset_t set = handled_signal_set();
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

void unblock_handled_signals() {
    sigset_t set = handled_signal_set();
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
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

// The whole running supervisor: owns the loop's watchers and the core.
class Shell {
  public:
    Shell(struct ev_loop* loop, Config config, RunMode mode)
        : loop_(loop),
          config_(std::move(config)),
          graph_(config_),
          output_(loop),
          logger_([this](std::string line) { output_.own_line(std::move(line)); },
                  wall_clock_rfc3339, config_.supervisor.log_format),
          probes_(
              loop,
              [this](std::size_t i, ProbeRole role, bool ok, const std::string& detail) {
                  supervisor_.on_probe_result(i, role, ok, detail);
                  after_event();
              },
              [this](std::size_t i, std::string status) {
                  supervisor_.on_notify_status(i, std::move(status));
              }),
          sys_(output_, probes_, [this](pid_t pid, int fd) { watch_exec_pipe(pid, fd); }),
          supervisor_(config_, graph_, sys_, logger_, mode),
          mode_(mode) {
        std::vector<std::string> names;
        for (const auto& s : config_.services) names.push_back(s.name);
        output_.set_service_names(names);
        output_.set_shared_destinations(
            std::any_of(config_.services.begin(), config_.services.end(),
                        [](const ServiceConfig& s) { return s.log == LogMode::Inherit; }));
        logger_.set_min_level(mode == RunMode::SingleCommand ? Level::Error : Level::Info);
    }

    ~Shell() {
        for (auto& [pid, w] : exec_pipes_) {
            ev_io_stop(loop_, &w->io);
            ::close(w->io.fd);
        }
        for (auto& w : signal_watchers_) ev_signal_stop(loop_, &w);
        ev_child_stop(loop_, &child_watcher_);
        ev_timer_stop(loop_, &timer_);
    }

    int run() {
        if (!config_.supervisor.health_listen.empty()) {
            http_ = std::make_unique<HttpServer>(
                loop_, [this]() { return supervisor_.snapshot(sys_.now()); });
            http_->set_ready_check([this]() { return supervisor_.all_ready(); });
            std::string err = http_->listen(config_.supervisor.health_listen);
            if (!err.empty()) {
                // Keep running without the endpoint: the services matter more
                // than the probe, and a developer may run two stacks at once.
                logger_.log(Level::Error, "", "http", err + " (the health endpoint is off)");
                http_.reset();
            }
        }
        std::size_t k = 0;
        for (int sig : kHandledSignals) {
            ev_signal& w = signal_watchers_[k++];
            ev_signal_init(&w, on_signal_cb, sig);
            w.data = this;
            ev_signal_start(loop_, &w);
        }
        ev_child_init(&child_watcher_, on_child_cb, 0, 0);
        child_watcher_.data = this;
        ev_child_start(loop_, &child_watcher_);
        // Signals that arrived while we were loading (blocked in
        // run_command) are delivered to libev's handlers from here on.
        unblock_handled_signals();
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
        output_.finish();
        return supervisor_.exit_code();
    }

    OnExit on_exit() const { return config_.supervisor.on_exit; }

  private:
    struct ExecPipe {
        ev_io io;
        Shell* shell;
        pid_t pid;
    };

    void watch_exec_pipe(pid_t pid, int fd) {
        auto w = std::make_unique<ExecPipe>();
        w->shell = this;
        w->pid = pid;
        ev_io_init(&w->io, on_exec_pipe_cb, fd, EV_READ);
        w->io.data = w.get();
        ev_io_start(loop_, &w->io);
        exec_pipes_[pid] = std::move(w);
    }

    // Reads the status pipe of `pid` (blocking is fine: the child either
    // exec'd, closing it, or wrote its report and is exiting) and tells the core.
    void resolve_exec(pid_t pid) {
        auto it = exec_pipes_.find(pid);
        if (it == exec_pipes_.end()) return;
        std::unique_ptr<ExecPipe> w = std::move(it->second);
        exec_pipes_.erase(it);
        ev_io_stop(loop_, &w->io);
        ExecReport report;
        ssize_t n;
        do {
            n = ::read(w->io.fd, &report, sizeof report);
        } while (n < 0 && errno == EINTR);
        ::close(w->io.fd);
        if (n == static_cast<ssize_t>(sizeof report) && report.error != 0) {
            std::string stage;
            const Service* svc = nullptr;
            for (const Service& s : supervisor_.services())
                if (s.pid() == pid) svc = &s;
            if (svc) stage = exec_stage_text(static_cast<ExecStage>(report.stage), svc->config());
            supervisor_.on_exec_result(pid, report.error, stage);
        } else {
            supervisor_.on_exec_result(pid, 0, "");
        }
    }

    // A service's last words come out before the news of its exit.
    void flush_service_output(pid_t pid) {
        const auto& services = supervisor_.services();
        for (std::size_t i = 0; i < services.size(); ++i)
            if (services[i].pid() == pid) output_.read_available(i);
    }

    void after_event() {
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
        } catch (const std::exception& e) {
            report_exception(e);
        }
    }

    static void on_child_cb(struct ev_loop*, ev_child* w, int) noexcept {
        auto* self = static_cast<Shell*>(w->data);
        try {
            const pid_t pid = w->rpid;
            if (self->probes_.on_child_exit(pid, w->rstatus)) {
                self->supervisor_.on_child_exit(pid, w->rstatus, /*orphan=*/false);
            } else {
                // The exit may overtake the exec-status pipe's EOF: settle
                // the exec result first so the core sees them in order.
                self->resolve_exec(pid);
                self->flush_service_output(pid);
                self->supervisor_.on_child_exit(pid, w->rstatus);
            }
            self->after_event();
        } catch (const std::exception& e) {
            self->report_exception(e);
        }
    }

    static void on_exec_pipe_cb(struct ev_loop*, ev_io* w, int) noexcept {
        auto* pipe = static_cast<ExecPipe*>(w->data);
        Shell* self = pipe->shell;
        try {
            self->resolve_exec(pipe->pid);  // destroys `pipe`
            self->after_event();
        } catch (const std::exception& e) {
            self->report_exception(e);
        }
    }

    static void on_timer_cb(struct ev_loop*, ev_timer* w, int) noexcept {
        auto* self = static_cast<Shell*>(w->data);
        try {
            self->supervisor_.on_time(self->sys_.now());
            self->after_event();
        } catch (const std::exception& e) {
            self->report_exception(e);
        }
    }

    void report_exception(const std::exception& e) noexcept {
        // The loop must not die: log and carry on (std::bad_alloc included).
        try {
            logger_.log(Level::Error, "", "internal", std::string("internal error: ") + e.what());
        } catch (...) {
        }
    }

    struct ev_loop* loop_;
    Config config_;
    Graph graph_;
    Output output_;
    Logger logger_;
    Probes probes_;
    PosixSys sys_;
    Supervisor supervisor_;
    RunMode mode_;
    std::unique_ptr<HttpServer> http_;
    std::unique_ptr<PowerButton> power_button_;
    ev_signal signal_watchers_[std::size(kHandledSignals)];
    ev_child child_watcher_;
    ev_timer timer_;
    std::map<pid_t, std::unique_ptr<ExecPipe>> exec_pipes_;
};

std::string basename_of(const std::string& path) {
    auto slash = path.find_last_of('/');
    std::string b = slash == std::string::npos ? path : path.substr(slash + 1);
    return b.empty() ? "command" : b;
}

Config single_command_config(const CliOptions& opts) {
    Config c;
    c.file = "<command line>";
    c.supervisor.health_listen = opts.health_listen.value_or("");
    if (opts.log_format) c.supervisor.log_format = *opts.log_format;
    ServiceConfig s;
    s.name = basename_of(opts.command_argv[0]);
    s.argv = opts.command_argv;
    s.log = LogMode::Inherit;
    s.critical = true;
    s.restart = RestartPolicy::Never;
    if (opts.stop_signal) s.stop_signal = *opts.stop_signal;
    if (opts.grace) s.stop_grace = *opts.grace;
    // The grace is the user's to choose; the cap only guards against a
    // process that survives SIGKILL (stuck in the kernel).
    c.supervisor.shutdown_timeout = s.stop_grace * 2 + Duration(5000);
    c.services.push_back(std::move(s));
    return c;
}

}  // namespace

int run_command(const CliOptions& opts) {
    block_handled_signals();
    const bool single = !opts.command_argv.empty();
    Config config;
    if (single) {
        config = single_command_config(opts);
    } else {
        try {
            config = load_config_file(resolve_config_path(opts));
        } catch (const ConfigError& e) {
            std::fprintf(stderr, "%s\n", e.what());
            return 2;
        }
        if (opts.health_listen) config.supervisor.health_listen = *opts.health_listen;
        if (opts.log_format) config.supervisor.log_format = *opts.log_format;
    }

    prepare_process();
    struct ev_loop* loop = ev_default_loop(EVFLAG_AUTO);
    if (!loop) {
        std::fprintf(stderr, "supervisor: fatal: cannot initialise the event loop\n");
        return 1;
    }
    int code;
    OnExit on_exit;
    {
        Shell shell(loop, std::move(config), single ? RunMode::SingleCommand : RunMode::Config);
        code = shell.run();
        on_exit = shell.on_exit();
    }
    final_power_action(on_exit);
    return code;
}

}  // namespace sv
