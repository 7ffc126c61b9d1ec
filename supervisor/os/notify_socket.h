// sd_notify sockets: readiness by `notify = true` (docs/health.md).
//
// Each such service gets its own AF_UNIX datagram socket, named in its
// $NOTIFY_SOCKET, in a private directory of this supervisor. The sockets
// exist from the start of the run until its end, across restarts, and every
// datagram from one of the service's processes becomes one event for the
// core: READY=1 and/or STATUS=… (Supervisor::on_notify).
#pragma once

#include <ev.h>
#include <sys/types.h>

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sv {

// One service's socket. Watched from creation until destroyed; the socket
// file is unlinked on destruction.
class NotifySocket {
  public:
    // What a datagram from an accepted sender said.
    struct Events {
        virtual void notify(const std::string& service, bool ready,
                            const std::optional<std::string>& status) = 0;

      protected:
        ~Events() = default;
    };

    // Creates, binds (path must fit sockaddr_un) and starts watching.
    // Returns nullptr with `error` set on failure.
    static std::unique_ptr<NotifySocket> open(struct ev_loop* loop, Events& events,
                                              std::string service, const std::string& path,
                                              std::string& error);
    ~NotifySocket();
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    void set_service_pid(pid_t pid) { service_pid_ = pid; }
    const std::string& path() const { return path_; }

  private:
    NotifySocket(struct ev_loop* loop, Events& events, std::string service, std::string path,
                 int fd);
    static void on_readable(struct ev_loop* loop, ev_io* w, int revents) noexcept;
    void receive();

    struct ev_loop* loop_;
    Events& events_;
    std::string service_;
    std::string path_;
    int fd_;
    pid_t service_pid_ = 0;
    ev_io readable_;
};

// The sockets of all services, in one private directory (mkdtemp, so two
// supervisors sharing /tmp never collide).
class NotifySockets {
  public:
    NotifySockets(struct ev_loop* loop, NotifySocket::Events& events)
        : loop_(loop), events_(events) {}
    ~NotifySockets() { close_all(); }
    NotifySockets(const NotifySockets&) = delete;
    NotifySockets& operator=(const NotifySockets&) = delete;

    // Creates (once) the socket of the service of this name and returns its
    // path for $NOTIFY_SOCKET, or "" with `error` set.
    std::string open(const std::string& service, std::string& error);

    // The pid of the service's current main process: only its processes
    // are heard.
    void set_service_pid(const std::string& service, pid_t pid);

    // Removes the sockets of services that are no longer configured.
    void keep_only(const std::vector<std::string>& services);

    // Removes every socket and the directory (end of the run).
    void close_all();

  private:
    std::string make_dir(std::string& error);

    struct ev_loop* loop_;
    NotifySocket::Events& events_;
    std::map<std::string, std::unique_ptr<NotifySocket>> sockets_;  // by service name
    std::string dir_;
};

// Is `sender` (with effective uid `uid`, from SCM_CREDENTIALS) the service
// whose main process is `service_pid`, or one of its processes?
bool sender_belongs_to_service(pid_t sender, uid_t uid, pid_t service_pid);

}  // namespace sv
