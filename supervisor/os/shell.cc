// The libev shell around the core: see the essay in shell.h. This file is
// the loop and its events; shell_control.cc the control socket, reload and
// the names the OS layer keys services by.
#include "shell.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "child.h"
#include "oops.h"
#include "shell_internal.h"
#include "wait_status.h"

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

}  // namespace

Shell::Shell(struct ev_loop* loop, Config config, ShellOptions options)
    : loop_(loop),
      options_(std::move(options)),
      config_(std::move(config)),
      graph_(config_),
      output_(loop),
      logger_([this](std::string line) { output_.own_line(std::move(line)); }, wall_clock_rfc3339,
              config_.supervisor.log_format),
      notify_(loop, *this),
      context_(make_context(config_)),
      probes_(
          loop,
          [this](std::size_t id, ProbeRole role, bool ok, const std::string& detail) {
              supervisor_.on_probe_result(id, role, ok, detail);
              after_event();
          },
          context_),
      sys_(*this),
      supervisor_(config_, graph_, sys_, logger_, options_.mode, context_) {
    follow_services();
    output_.keep_lines(&logs_, [this]() {
        if (control_) control_->on_new_lines();
    });
    output_.set_shared_destinations(
        std::any_of(config_.services.begin(), config_.services.end(),
                    [](const ServiceConfig& s) { return s.log == LogMode::Inherit; }));
    logger_.set_min_level(options_.mode == RunMode::SingleCommand ? Level::Error : Level::Info);
    set_oops_logger(&logger_);
}

Shell::~Shell() {
    set_oops_logger(nullptr);
    control_.reset();
    for (auto& [pid, w] : exec_pipes_) {
        ev_io_stop(loop_, &w->io);
        ::close(w->io.fd);
    }
    for (auto& w : signal_watchers_) ev_signal_stop(loop_, w.get());
    ev_child_stop(loop_, &child_watcher_);
    ev_timer_stop(loop_, &timer_);
}

int Shell::run() {
    if (!listen_control(control_setting_, control_group_)) return 2;
    if (!config_.supervisor.health_listen.empty()) {
        const std::string err = listen_http(config_.supervisor.health_listen);
        // Keep running without the endpoint: the services matter more than
        // the probe, and a developer may run two stacks at once.
        if (!err.empty())
            logger_.log(Level::Error, "", "http", err + " (the health endpoint is off)");
    }
    for (int sig : watched_signals(options_.mode)) {
        auto w = std::make_unique<ev_signal>();
        ev_signal_init(w.get(), on_signal_cb, sig);
        w->data = this;
        ev_signal_start(loop_, w.get());
        signal_watchers_.push_back(std::move(w));
    }
    ev_child_init(&child_watcher_, on_child_cb, 0, 0);
    child_watcher_.data = this;
    ev_child_start(loop_, &child_watcher_);
    // Signals that arrived while we were loading (blocked by run()) are
    // delivered to libev's handlers from here on.
    const sigset_t handled = handled_signal_set(options_.mode);
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

    control_.reset();  // the socket file goes before we do
    probes_.stop_all();
    notify_.close_all();
    output_.finish();
    return supervisor_.exit_code();
}

// --- SysHooks ---

void Shell::spawned(std::size_t id, pid_t pid, int status_fd, int stdout_fd, int stderr_fd) {
    auto w = std::make_unique<ExecPipe>();
    w->shell = this;
    w->pid = pid;
    w->id = id;
    ev_io_init(&w->io, on_exec_pipe_cb, status_fd, EV_READ);
    w->io.data = w.get();
    ev_io_start(loop_, &w->io);
    exec_pipes_[pid] = std::move(w);
    output_.attach(id, stdout_fd, stderr_fd);
    if (const Service* s = supervisor_.find_id(id)) notify_.set_service_pid(s->name(), pid);
}

void Shell::start_probe(std::size_t id, ProbeRole role, const ProbeConfig& probe) {
    probes_.start(id, role, probe);
}

void Shell::stop_probe(std::size_t id, ProbeRole role) {
    probes_.stop(id, role);
}

// --- StatusSource ---

Snapshot Shell::snapshot() {
    return supervisor_.snapshot(sys_.now());
}

bool Shell::all_ready() {
    return supervisor_.all_ready();
}

// --- NotifySocket::Events ---

void Shell::notify(const std::string& service, bool ready,
                   const std::optional<std::string>& status) {
    if (const Service* s = supervisor_.find_name(service))
        supervisor_.on_notify(s->id(), ready, status);
    after_event();
}

// Reads the status pipe of `pid` and tells the core.
void Shell::resolve_exec(pid_t pid) {
    auto it = exec_pipes_.find(pid);
    if (it == exec_pipes_.end()) return;
    std::unique_ptr<ExecPipe> w = std::move(it->second);
    exec_pipes_.erase(it);
    ev_io_stop(loop_, &w->io);
    const Service* s = supervisor_.find_id(w->id);
    const ExecResult result = read_exec_result(w->io.fd, s ? s->plan() : SpawnPlan{});
    supervisor_.on_exec_result(pid, result);
}

// A service's last words come out before the news of its exit.
void Shell::flush_service_output(pid_t pid) {
    for (const Service& s : supervisor_.services())
        if (s.pid() == pid) output_.read_available(s.id());
}

// Re-arms the one timer at the core's next deadline, or ends the loop; and
// settles what control clients wait for.
void Shell::after_event() noexcept {
    try {
        if (control_) control_->check_waiters();
    } catch (...) {
        oops("answering control clients");
    }
    ev_timer_stop(loop_, &timer_);
    if (supervisor_.finished()) {
        ev_break(loop_, EVBREAK_ALL);
        return;
    }
    if (auto d = supervisor_.next_deadline()) {
        auto wait = std::chrono::duration<double>(*d - sys_.now()).count();
        if (wait < 0) wait = 0;
        ev_now_update(loop_);
        ev_timer_set(&timer_, wait, 0.);
        ev_timer_start(loop_, &timer_);
    }
}

void Shell::on_signal_cb(struct ev_loop*, ev_signal* w, int) noexcept {
    static_cast<Shell*>(w->data)->deliver_signal(w->signum);
}

void Shell::deliver_signal(int sig) noexcept {
    try {
        const bool reloads = config_.supervisor.sighup == SighupAction::Reload;
        if (signal_action(sig, options_.mode, ::getpid() == 1, reloads) == SignalAction::Reload)
            reload_on_signal();
        else
            supervisor_.on_signal(sig);
    } catch (...) {
        oops("handling a signal");
    }
    after_event();
}

void Shell::on_child_cb(struct ev_loop*, ev_child* w, int) noexcept {
    auto* self = static_cast<Shell*>(w->data);
    try {
        const pid_t pid = w->rpid;
        self->sys_.reaped(pid);
        if (self->probes_.on_child_exit(pid, w->rstatus)) {
            self->supervisor_.on_child_exit(pid, decode_wait_status(w->rstatus),
                                            /*orphan=*/false);
        } else {
            // The exit may overtake the exec-status pipe's EOF: settle the
            // exec result first so the core sees them in order.
            self->resolve_exec(pid);
            self->flush_service_output(pid);
            self->supervisor_.on_child_exit(pid, decode_wait_status(w->rstatus));
        }
    } catch (...) {
        oops("handling a child's exit");
    }
    self->after_event();
}

void Shell::on_exec_pipe_cb(struct ev_loop*, ev_io* w, int) noexcept {
    auto* pipe = static_cast<ExecPipe*>(w->data);
    Shell* self = pipe->shell;
    try {
        self->resolve_exec(pipe->pid);  // destroys `pipe`
    } catch (...) {
        oops("reading an exec status");
    }
    self->after_event();
}

void Shell::on_timer_cb(struct ev_loop*, ev_timer* w, int) noexcept {
    auto* self = static_cast<Shell*>(w->data);
    try {
        self->supervisor_.on_time(self->sys_.now());
    } catch (...) {
        oops("handling a deadline");
    }
    self->after_event();  // the timer must be re-armed
}

void block_handled_signals(RunMode mode) {
    const sigset_t set = handled_signal_set(mode);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

int run_on_loop(struct ev_loop* loop, Config config, ShellOptions options) {
    Shell shell(loop, std::move(config), std::move(options));
    return shell.run();
}

}  // namespace sv
