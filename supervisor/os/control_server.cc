// The control socket: see control_server.h.
#include "control_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "oops.h"

namespace sv {

namespace {

constexpr std::size_t kMaxConnections = 512;
constexpr ev_tstamp kRequestTimeout = 10.0;  // to send the request line
constexpr ev_tstamp kAcceptPause = 0.1;

bool make_address(const std::string& path, sockaddr_un& addr) {
    addr = {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return false;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return true;
}

}  // namespace

struct ControlServer::Conn {
    ControlServer* server;
    ConnId id;
    int fd;
    ev_io io;
    ev_timer timer;
    int events = 0;
    bool got_request = false;
    bool finishing = false;  // close once `out` is sent
    std::string in;
    std::string out;
    std::size_t out_off = 0;
    bool was_full = false;  // on_drained is owed

    std::size_t pending() const { return out.size() - out_off; }
};

ControlServer::ControlServer(struct ev_loop* loop, Handler& handler)
    : loop_(loop), handler_(handler) {
    ev_init(&accept_, on_accept);
    accept_.data = this;
    ev_init(&accept_pause_, on_accept_pause);
    accept_pause_.data = this;
}

ControlServer::~ControlServer() {
    close();
}

std::string ControlServer::listen(const std::string& path, std::optional<gid_t> group, bool& live) {
    live = false;
    sockaddr_un addr;
    if (!make_address(path, addr))
        return "cannot listen on " + path + ": the path is too long for a Unix socket";
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return "cannot listen on " + path + ": it exists and is not a socket";
        // Somebody home? A live supervisor answers connect(); a stale file
        // from one that died is refused, and replaced.
        const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const bool answered =
            probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        if (probe >= 0) ::close(probe);
        if (answered) {
            live = true;
            return "another supervisor is running on " + path;
        }
        ::unlink(path.c_str());
    }
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return "cannot create the control socket: " + std::string(std::strerror(errno));
    // The mode is right from the start: never a moment at the umask's.
    const mode_t old = ::umask(group ? 0117 : 0177);
    const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    const int bind_errno = errno;
    ::umask(old);
    // SOMAXCONN (the kernel's cap): a burst of clients queues instead of
    // being refused with EAGAIN.
    if (rc != 0 || ::listen(fd, SOMAXCONN) != 0) {
        const int err = rc != 0 ? bind_errno : errno;
        ::close(fd);
        return "cannot listen on " + path + ": " + std::strerror(err);
    }
    if (group && ::chown(path.c_str(), static_cast<uid_t>(-1), *group) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(path.c_str());
        return "cannot give " + path + " to its control group: " + std::strerror(err);
    }
    if (::stat(path.c_str(), &st) == 0) inode_ = st.st_ino;
    fd_ = fd;
    path_ = path;
    group_ = group;
    ev_io_set(&accept_, fd_, EV_READ);
    ev_io_start(loop_, &accept_);
    return "";
}

void ControlServer::close() {
    ev_io_stop(loop_, &accept_);
    ev_timer_stop(loop_, &accept_pause_);
    while (!conns_.empty()) drop(conns_.begin()->first);
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
        // Only if it is still ours: another supervisor may have replaced it.
        struct stat st;
        if (::stat(path_.c_str(), &st) == 0 && st.st_ino == inode_) ::unlink(path_.c_str());
    }
}

void ControlServer::on_accept(struct ev_loop*, ev_io* w, int) noexcept {
    try {
        static_cast<ControlServer*>(w->data)->accept_all();
    } catch (...) {
        oops("accepting a control connection");
    }
}

void ControlServer::on_accept_pause(struct ev_loop* loop, ev_timer* w, int) noexcept {
    auto* self = static_cast<ControlServer*>(w->data);
    if (self->fd_ >= 0) ev_io_start(loop, &self->accept_);
}

bool ControlServer::allowed(int fd, std::string& why) const {
    struct ucred cred {};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        why = "cannot tell who is calling: " + std::string(std::strerror(errno));
        return false;
    }
    if (cred.uid == 0 || cred.uid == ::geteuid()) return true;
    if (group_) {
        if (cred.gid == *group_) return true;
        gid_t groups[256];
        socklen_t glen = sizeof groups;
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0)
            for (std::size_t i = 0; i < glen / sizeof(gid_t); ++i)
                if (groups[i] == *group_) return true;
    }
    why = "permission denied: uid " + std::to_string(cred.uid) +
          " may not control this supervisor (root, uid " + std::to_string(::geteuid()) +
          (group_ ? " or the members of gid " + std::to_string(*group_) : std::string()) + ")";
    return false;
}

void ControlServer::accept_all() {
    for (;;) {
        const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of descriptors: wait a little rather than spin on a
                // listening socket that stays readable.
                ev_io_stop(loop_, &accept_);
                ev_timer_set(&accept_pause_, kAcceptPause, 0.);
                ev_timer_start(loop_, &accept_pause_);
            }
            return;
        }
        std::string refusal;
        if (conns_.size() >= kMaxConnections)
            refusal = "too many clients; try again";
        else
            (void)allowed(fd, refusal);
        if (!refusal.empty()) {
            // Best effort, one write: the client learns why.
            const std::string line = format_reply({ReplyKind::End, 3, refusal}) + "\n";
            (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            ::close(fd);
            continue;
        }
        auto c = std::make_unique<Conn>();
        c->server = this;
        c->id = next_id_++;
        c->fd = fd;
        ev_io_init(&c->io, on_io, fd, EV_READ);
        c->io.data = c.get();
        c->events = EV_READ;
        ev_io_start(loop_, &c->io);
        ev_timer_init(&c->timer, on_timer, kRequestTimeout, 0.);
        c->timer.data = c.get();
        ev_timer_start(loop_, &c->timer);
        conns_.emplace(c->id, std::move(c));
    }
}

void ControlServer::on_io(struct ev_loop*, ev_io* w, int revents) noexcept {
    auto* c = static_cast<Conn*>(w->data);
    ControlServer* self = c->server;
    const ConnId id = c->id;
    try {
        if (revents & EV_READ) self->read(*c);
        if (!self->is_open(id)) return;
        if (revents & EV_WRITE) self->flush(*c, true);
    } catch (...) {
        oops("serving a control connection");
        self->drop(id);
    }
}

void ControlServer::on_timer(struct ev_loop*, ev_timer* w, int) noexcept {
    auto* c = static_cast<Conn*>(w->data);
    ControlServer* self = c->server;
    const ConnId id = c->id;
    try {
        if (!c->got_request) {
            self->finish(id, 2, "no request within 10s");
            return;
        }
        self->drop(id);
    } catch (...) {
        oops("timing out a control connection");
        self->drop(id);
    }
}

void ControlServer::read(Conn& c) {
    char buf[16384];
    for (;;) {
        const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {  // the client is gone (or done: one request per connection)
            drop(c.id);
            return;
        }
        if (c.got_request) continue;  // anything after the request is ignored
        c.in.append(buf, static_cast<std::size_t>(n));
        const std::size_t nl = c.in.find('\n');
        if (nl == std::string::npos) {
            if (c.in.size() >= kMaxRequest) {
                finish(c.id, 2, "request too long (at most 64 KiB)");
                return;
            }
            continue;
        }
        c.got_request = true;
        ev_timer_stop(loop_, &c.timer);
        std::string error;
        auto request = parse_control_request(std::string_view(c.in).substr(0, nl), error);
        c.in.clear();
        c.in.shrink_to_fit();
        if (!request) {
            finish(c.id, 2, error);
            return;
        }
        const ConnId id = c.id;
        handler_.on_request(id, std::move(*request));  // may finish (and drop) c
        if (!is_open(id)) return;
    }
}

void ControlServer::send(ConnId id, ReplyKind kind, std::string_view text) {
    auto it = conns_.find(id);
    if (it == conns_.end() || it->second->finishing) return;
    Conn& c = *it->second;
    // One line per line: a newline inside the text would forge a reply.
    std::string clean(text);
    std::replace(clean.begin(), clean.end(), '\n', ' ');
    c.out += format_reply({kind, 0, clean});
    c.out += '\n';
    if (c.pending() >= kMaxBuffered) c.was_full = true;
    flush(c, false);
}

void ControlServer::finish(ConnId id, int code, std::string_view text) {
    auto it = conns_.find(id);
    if (it == conns_.end() || it->second->finishing) return;
    Conn& c = *it->second;
    std::string clean(text);
    std::replace(clean.begin(), clean.end(), '\n', ' ');
    c.out += format_reply({ReplyKind::End, code, clean});
    c.out += '\n';
    c.finishing = true;
    // A client that never reads gets a while, not forever.
    ev_timer_stop(loop_, &c.timer);
    ev_timer_set(&c.timer, 30., 0.);
    ev_timer_start(loop_, &c.timer);
    flush(c, false);
}

void ControlServer::flush(Conn& c, bool notify) {
    while (c.pending() > 0) {
        const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.pending(), MSG_NOSIGNAL);
        if (n > 0) {
            c.out_off += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        drop(c.id);  // EPIPE, ECONNRESET: the client is gone
        return;
    }
    if (c.pending() == 0) {
        c.out.clear();
        c.out_off = 0;
        if (c.finishing) {
            drop(c.id);
            return;
        }
    } else if (c.out_off > kMaxBuffered) {
        c.out.erase(0, c.out_off);  // keep the buffer from creeping
        c.out_off = 0;
    }
    update(c);
    // Only from the loop's own write event: a send() from inside the
    // handler must not call the handler back.
    if (notify && c.was_full && c.pending() < kMaxBuffered / 2) {
        c.was_full = false;
        handler_.on_drained(c.id);
    }
}

void ControlServer::update(Conn& c) {
    const int want = EV_READ | (c.pending() > 0 ? EV_WRITE : 0);
    if (want == c.events) return;
    ev_io_stop(loop_, &c.io);
    ev_io_set(&c.io, c.fd, want);
    ev_io_start(loop_, &c.io);
    c.events = want;
}

bool ControlServer::is_open(ConnId id) const {
    return conns_.count(id) != 0;
}

std::size_t ControlServer::buffered(ConnId id) const {
    auto it = conns_.find(id);
    return it == conns_.end() ? 0 : it->second->pending();
}

void ControlServer::drop(ConnId id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    std::unique_ptr<Conn> c = std::move(it->second);
    conns_.erase(it);
    ev_io_stop(loop_, &c->io);
    ev_timer_stop(loop_, &c->timer);
    ::close(c->fd);
    handler_.on_closed(id);
}

std::string control_socket_path(const std::string& setting) {
    if (setting != "auto") return setting;
    if (::geteuid() == 0) return "/run/supervisor.sock";
    if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x)
        return std::string(x) + "/supervisor.sock";
    return "/tmp/supervisor-" + std::to_string(::geteuid()) + "/control.sock";
}

std::string prepare_socket_dir(const std::string& socket_path) {
    const std::string mine = "/tmp/supervisor-" + std::to_string(::geteuid());
    if (socket_path.rfind(mine + "/", 0) != 0) return "";
    if (::mkdir(mine.c_str(), 0700) != 0 && errno != EEXIST)
        return "cannot create " + mine + ": " + std::strerror(errno);
    struct stat st;
    if (::lstat(mine.c_str(), &st) != 0) return "cannot use " + mine + ": " + std::strerror(errno);
    // In a shared /tmp, somebody else may have made it first.
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
        return "cannot use " + mine + ": it must be a directory of uid " +
               std::to_string(::geteuid()) + " with mode 0700";
    return "";
}

}  // namespace sv
