// The libev shell around the core: see the essay in shell.h. This file is
// the loop and its events; shell_control.cc the control socket, reload and
// the names the OS layer keys services by.
#include "shell.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "child.h"
#include "oops.h"
#include "shell_internal.h"
#include "wait_status.h"

namespace sv {

namespace {

// The SIGPIPE the kernel raises when one of our own writes meets a closed
// pipe: it comes "from" us (SI_USER with our pid), and the write has failed
// with EPIPE already; nobody sent it, so it is neither news nor forwarded.
bool self_inflicted(const signalfd_siginfo& info) {
    return info.ssi_signo == SIGPIPE && info.ssi_code == SI_USER &&
           static_cast<pid_t>(info.ssi_pid) == ::getpid();
}

// The signals the shell watches in `mode` (core/signal_policy.h), and CHLD.
sigset_t handled_signal_set(RunMode mode) {
    const bool pid1 = ::getpid() == 1;
    sigset_t set;
    sigemptyset(&set);
    for (int sig : watched_signals(mode, pid1)) sigaddset(&set, sig);
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
              // What the service wrote before it became ready comes first.
              if (role == ProbeRole::Ready) output_.read_available(id);
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
    ev_prepare_stop(loop_, &exec_news_watcher_);
    ev_timer_stop(loop_, &timer_);
    // The signalfd stays open and the signals blocked until we exit: a late
    // SIGTERM must not kill us with 143 instead of the exit code we return.
    ev_io_stop(loop_, &signals_);
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
    // Every handled signal, SIGCHLD included, through one signalfd: they
    // have been blocked since run() began (those that came meanwhile are
    // read now) and stay blocked, so no handler of ours exists (a child
    // that shares our memory before exec can never run one, os/child.cc).
    // Hand-made rather than libev's ev_signal, which makes two system calls
    // per signal at start; and rather than ev_child, which reaps one child
    // per loop iteration where this drains them all per wake-up.
    const sigset_t handled = handled_signal_set(options_.mode);
    const int signal_fd = ::signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd < 0) {
        logger_.log(Level::Error, "", "fatal",
                    std::string("cannot create a signalfd: ") + std::strerror(errno));
        return 1;
    }
    ev_io_init(&signals_, on_signals_cb, signal_fd, EV_READ);
    signals_.data = this;
    ev_io_start(loop_, &signals_);
    ev_prepare_init(&exec_news_watcher_, on_exec_news_cb);
    exec_news_watcher_.data = this;
    ev_init(&timer_, on_timer_cb);
    timer_.data = this;

    supervisor_.start();
    after_event();
    // As a VM's init: the ACPI power button (KEY_POWER) stops as SIGTERM
    // does. Looked for once the first services are launched: whether we
    // are the machine's init is a stat of /proc (tens of microseconds, and
    // the input devices then), done while their execs go on; a press is
    // read when the loop runs.
    power_button_ = watch_power_button(loop_, [this]() {
        logger_.log(Level::Info, "", "power_button", "power button pressed");
        deliver_signal(SIGTERM);
    });
    if (!supervisor_.finished()) ev_run(loop_, 0);

    control_.reset();  // the socket file goes before we do
    probes_.stop_all();
    notify_.close_all();
    output_.finish();
    return supervisor_.exit_code();
}

// --- SysHooks ---

void Shell::spawned(std::size_t id, pid_t pid, const ExecResult& exec, bool exec_pending,
                    OutputPipe out, OutputPipe err) {
    // Not now: we are inside the core's own call (it is spawning). Before
    // the loop next waits for anything, so before any SIGCHLD is read.
    output_.attach(id, out, err);  // first: it owns the fds from here on
    exec_news_.push_back({pid, exec, exec_pending});
    ev_prepare_start(loop_, &exec_news_watcher_);
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
    if (const Service* s = supervisor_.find_name(service)) {
        if (ready) output_.read_available(s->id());  // its lines before "ready"
        supervisor_.on_notify(s->id(), ready, status);
    }
    after_event();
}

Shell::Batch::~Batch() {
    try {
        shell_.supervisor_.end_batch();
    } catch (...) {
        oops("settling a batch of events");
    }
    shell_.output_.release_own_lines();
}

// Tells the core how the execs went, in spawn order; what that starts
// is told in the same pass.
void Shell::deliver_exec_news() {
    // What the news start (dependents) brings news of its own: until none
    // is left, so nothing waits for the loop's next wake-up.
    while (!exec_news_.empty()) {
        std::vector<ExecNews> news;
        news.swap(exec_news_);
        // Overlapped launches: every child of the round has exec'd (or
        // failed) by now, or is about to; their outcomes, in spawn order.
        for (ExecNews& n : news)
            if (n.pending) n.result = await_exec(n.pid);
        Batch batch(*this);
        for (const ExecNews& n : news) supervisor_.on_exec_result(n.pid, n.result);
    }
    ev_prepare_stop(loop_, &exec_news_watcher_);
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

void Shell::on_signals_cb(struct ev_loop*, ev_io* w, int) noexcept {
    auto* self = static_cast<Shell*>(w->data);
    bool children = false;
    signalfd_siginfo info[16];
    for (;;) {
        const ssize_t n = ::read(w->fd, info, sizeof info);
        if (n <= 0) break;  // EAGAIN: all read
        const auto count = static_cast<std::size_t>(n) / sizeof info[0];
        for (std::size_t k = 0; k < count; ++k) {
            const int sig = static_cast<int>(info[k].ssi_signo);
            if (sig == SIGCHLD)
                children = true;
            else if (!self_inflicted(info[k]))
                self->deliver_signal(sig);
        }
        if (count < std::size(info)) break;
    }
    if (children) self->reap_children();
}

void Shell::deliver_signal(int sig) noexcept {
    try {
        Batch batch(*this);  // a shutdown's first round: every "stopping" in one write
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

void Shell::child_exited(pid_t pid, int wait_status) {
    if (probes_.on_child_exit(pid, wait_status)) {
        supervisor_.on_child_exit(pid, decode_wait_status(wait_status), /*orphan=*/false);
        return;
    }
    // A service's last words come out before the news of its exit.
    if (const Service* s = supervisor_.find_leader(pid)) {
        output_.leader_gone(s->id());
        output_.read_available(s->id());
    }
    supervisor_.on_child_exit(pid, decode_wait_status(wait_status));
}

void Shell::reap_children() {
    try {
        // The exec news of this round first, so the core sees them in order.
        if (!exec_news_.empty()) deliver_exec_news();
        // One SIGCHLD may stand for many exits: reap until none is left.
        // Each exit is applied to its service, and what follows from all of
        // them is worked out once (a batch), the timer re-armed once.
        int status = 0;
        pid_t pid;
        Batch batch(*this);
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) child_exited(pid, status);
    } catch (...) {
        oops("handling a child's exit");
    }
    after_event();
}

void Shell::on_exec_news_cb(struct ev_loop*, ev_prepare* w, int) noexcept {
    auto* self = static_cast<Shell*>(w->data);
    try {
        self->deliver_exec_news();
    } catch (...) {
        oops("telling how an exec went");
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
    // Never destroyed: the process ends right after (os/shell.h).
    Shell* shell = new Shell(loop, std::move(config), std::move(options));
    return shell->run();
}

}  // namespace sv
