// The control socket (docs/control.md): a Unix stream socket on the loop,
// one request per connection (core/control_protocol.h), many connections at
// once, none able to block the loop or a service.
//
// Who may talk: the socket file is 0600 (0660 with a control group), and
// every connection's peer is checked with SO_PEERCRED: root, the
// supervisor's own uid, or a member of the control group. Anyone else gets
// "= 3 permission denied" and nothing is done.
//
// Bounds: a request is one line of at most 64 KiB, which must arrive within
// 10 s of the connection; at most 512 connections (more are told "too many
// clients"); accept() out of descriptors pauses accepting for 100 ms rather
// than spin. Answers go out without blocking; what a client does not read
// waits in its connection's buffer, and the handler (the shell) decides
// what may wait there: a log follower stops pulling lines while its buffer
// is full, and is told later how many it lost.
//
// At start, a socket file left by a supervisor that died is replaced; one
// that another supervisor answers on is an error ("another supervisor is
// running on PATH"). The file is removed when the server closes, if it is
// still ours.
#pragma once

#include <ev.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "control_protocol.h"

namespace sv {

class ControlServer {
  public:
    using ConnId = std::uint64_t;

    class Handler {
      public:
        // A complete, well-formed request from an allowed peer. Answer with
        // send()/finish(), now or later.
        virtual void on_request(ConnId conn, ControlRequest request) = 0;
        // The connection is gone (client closed, error, finished).
        virtual void on_closed(ConnId conn) = 0;
        // Its buffer went below half of kMaxBuffered again.
        virtual void on_drained(ConnId conn) = 0;

      protected:
        ~Handler() = default;
    };

    // What a connection may hold unsent before the handler should wait.
    static constexpr std::size_t kMaxBuffered = 256 * 1024;

    ControlServer(struct ev_loop* loop, Handler& handler);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Listens on `path`. `group`: members may connect too (mode 0660).
    // Returns "" or what went wrong; `live` is set when another supervisor
    // answers on the path (a configuration error: exit 2).
    std::string listen(const std::string& path, std::optional<gid_t> group, bool& live);
    // Stops listening, removes the file, closes every connection.
    void close();
    const std::string& path() const { return path_; }

    // One answer line to `conn` (no-op when it is gone).
    void send(ConnId conn, ReplyKind kind, std::string_view text);
    // The last line; the connection closes once it is sent.
    void finish(ConnId conn, int code, std::string_view text);
    bool is_open(ConnId conn) const;
    std::size_t buffered(ConnId conn) const;
    std::size_t connections() const { return conns_.size(); }

  private:
    struct Conn;
    static void on_accept(struct ev_loop*, ev_io* w, int) noexcept;
    static void on_io(struct ev_loop*, ev_io* w, int revents) noexcept;
    static void on_timer(struct ev_loop*, ev_timer* w, int) noexcept;
    static void on_accept_pause(struct ev_loop*, ev_timer* w, int) noexcept;

    void accept_all();
    bool allowed(int fd, std::string& why) const;
    void read(Conn& c);
    void flush(Conn& c, bool notify);
    void update(Conn& c);
    void drop(ConnId id);  // closes, tells the handler

    struct ev_loop* loop_;
    Handler& handler_;
    std::string path_;
    int fd_ = -1;
    ino_t inode_ = 0;
    std::optional<gid_t> group_;
    ev_io accept_;
    ev_timer accept_pause_;
    std::map<ConnId, std::unique_ptr<Conn>> conns_;
    ConnId next_id_ = 1;
};

// Where `control_socket = "auto"` puts the socket for this user: as root
// /run/supervisor.sock, else $XDG_RUNTIME_DIR/supervisor.sock, else
// /tmp/supervisor-UID/control.sock. `setting` other than "auto" is returned
// as it is. The client (`supervisor stop` …) uses the same rule.
std::string control_socket_path(const std::string& setting);

// For /tmp/supervisor-UID: creates the directory 0700 if needed, and checks
// that it is ours and nobody else's. "" or what is wrong.
std::string prepare_socket_dir(const std::string& socket_path);

}  // namespace sv
