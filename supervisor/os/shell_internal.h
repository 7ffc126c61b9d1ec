// The Shell class (see shell.h), shared by shell.cc (the loop and its
// events) and shell_control.cc (the control socket, reload, the service
// names the OS layer keys things by). Not part of any interface.
#pragma once

#include <ev.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller.h"
#include "graph.h"
#include "http_server.h"
#include "log.h"
#include "log_ring.h"
#include "notify_socket.h"
#include "output.h"
#include "posix_sys.h"
#include "power_button.h"
#include "probes.h"
#include "shell.h"
#include "supervisor.h"

namespace sv {

class Shell final : public SysHooks,
                    public StatusSource,
                    public NotifySocket::Events,
                    public Controller::Host {
  public:
    Shell(struct ev_loop* loop, Config config, ShellOptions options);
    ~Shell();
    Shell(const Shell&) = delete;
    Shell& operator=(const Shell&) = delete;

    int run();

  private:
    // An exec's outcome, told to the core after the event that spawned it.
    struct ExecNews {
        pid_t pid;
        ExecResult result;
        bool pending;  // overlapped: await_exec(pid) has the result
    };

    // --- shell_control.cc ---
    // What the OS layer learns about `config`'s services before they run:
    // identities (NSS, once per load) and notify sockets.
    RunContext make_context(const Config& config);
    // The output prefixes and notify sockets follow the current services.
    void follow_services();
    // The health endpoint on `address` ("" turns it off). "" or the error.
    std::string listen_http(const std::string& address);
    // The control socket of `setting` ("auto", a path, ""). Returns false
    // when another supervisor is live on it (exit 2).
    bool listen_control(const std::string& setting, const std::string& group);
    // Controller::Host
    Supervisor& supervisor() override { return supervisor_; }
    const LogStore& logs() override { return logs_; }
    int reload(ReloadSummary& summary, std::string& error) override;
    void after_request() override { after_event(); }
    void reload_on_signal();

    // --- SysHooks ---
    void spawned(std::size_t id, pid_t pid, const ExecResult& exec, bool exec_pending,
                 OutputPipe out, OutputPipe err) override;
    void start_probe(std::size_t id, ProbeRole role, const ProbeConfig& probe) override;
    void stop_probe(std::size_t id, ProbeRole role) override;
    // --- StatusSource (the endpoint) ---
    Snapshot snapshot() override;
    bool all_ready() override;
    // --- NotifySocket::Events ---
    void notify(const std::string& service, bool ready,
                const std::optional<std::string>& status) override;

    // Supervisor::begin_batch() ... end_batch(), whatever happens between,
    // with our own messages written once at the end.
    class Batch {
      public:
        explicit Batch(Shell& s) : shell_(s) {
            s.output_.hold_own_lines();
            s.supervisor_.begin_batch();
        }
        ~Batch();
        Batch(const Batch&) = delete;
        Batch& operator=(const Batch&) = delete;

      private:
        Shell& shell_;
    };
    void deliver_exec_news();
    void child_exited(pid_t pid, int wait_status);
    void after_event() noexcept;
    void deliver_signal(int sig) noexcept;
    void reap_children();
    static void on_signals_cb(struct ev_loop*, ev_io* w, int) noexcept;
    static void on_exec_news_cb(struct ev_loop*, ev_prepare* w, int) noexcept;
    static void on_timer_cb(struct ev_loop*, ev_timer* w, int) noexcept;

    struct ev_loop* loop_;
    ShellOptions options_;
    Config config_;  // the configuration as loaded (the core keeps its own copy)
    Graph graph_;
    Output output_;
    Logger logger_;
    LogStore logs_;
    NotifySockets notify_;
    RunContext context_;
    Probes probes_;
    PosixSys sys_;
    Supervisor supervisor_;
    std::unique_ptr<HttpServer> http_;
    std::string http_address_;
    std::unique_ptr<Controller> control_;
    std::string control_setting_, control_group_;
    std::unique_ptr<PowerButton> power_button_;
    // The watchers start zeroed: ~Shell stops them even when run() returned
    // before it set them up (another supervisor on the control socket).
    ev_io signals_{};  // the signalfd
    ev_timer timer_{};
    std::vector<ExecNews> exec_news_;
    ev_prepare exec_news_watcher_{};
};

}  // namespace sv
