// The sd_notify sockets of the services (readiness `notify = true`): see
// notify_socket.h.
//
// The protocol is systemd's (sd_notify(3)): the service finds an AF_UNIX
// datagram socket in $NOTIFY_SOCKET and sends newline-separated KEY=VALUE
// assignments. We act on three of them:
//   READY=1    the service is ready (reported to the core as a probe verdict)
//   STATUS=…   a free-form status line, shown in /status
//   BARRIER=1  comes with a file descriptor; closing it is the answer
//              (`systemd-notify --ready` waits for that, then exits 0)
// Everything else (MAINPID=, RELOADING=1, WATCHDOG=1, FDSTORE=1, …) is
// ignored, and every received descriptor is closed, so a sender cannot make
// us hold files open.
//
// Who may speak: SO_PASSCRED makes the kernel attach the sender's real
// pid/uid to each datagram, and we accept it only from the service's
// current main process, a descendant of it (ppid chain in /proc), or a
// process in its session (services run in their own session, so this
// covers daemonising children that were re-parented to us). A sender that
// has already exited (an old `systemd-notify` without the barrier sends and
// leaves at once) cannot be traced any more; we accept it when its uid is
// the uid the service runs as, since only that user could have pretended
// anyway. A stale message from a previous run is rejected because the pid
// no longer matches.
#include "notify_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "oops.h"
#include "proc.h"

namespace sv {

namespace {

// systemd accepts at most PIPE_BUF bytes per notification (NOTIFY_BUFFER_MAX).
constexpr std::size_t kMaxDatagram = 4096;
// How many ancestors to walk looking for the service's main process.
constexpr int kMaxAncestors = 32;
constexpr int kMaxFds = 253;  // SCM_MAX_FD

}  // namespace

bool sender_belongs_to_service(pid_t sender, uid_t uid, pid_t service_pid) {
    if (service_pid <= 0 || sender <= 0) return false;
    if (sender == service_pid) return true;
    pid_t sid = ::getsid(sender);
    if (sid == service_pid) return true;
    if (sid < 0 && errno == ESRCH) {
        // Already gone: compare its uid with the service's (see the top).
        struct stat st;
        char path[32];
        std::snprintf(path, sizeof path, "/proc/%d", static_cast<int>(service_pid));
        return ::stat(path, &st) == 0 && st.st_uid == uid;
    }
    pid_t p = sender;
    for (int i = 0; i < kMaxAncestors; ++i) {
        const auto st = read_proc_stat(p);
        p = st ? st->ppid : -1;
        if (p == service_pid) return true;
        if (p <= 1) break;
    }
    return false;
}

std::unique_ptr<NotifySocket> NotifySocket::open(struct ev_loop* loop, Events& events,
                                                 std::string service, const std::string& path,
                                                 std::string& error) {
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        error = "notify socket path too long: " + path;
        return nullptr;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        error = "cannot create notify socket: " + std::string(std::strerror(errno));
        return nullptr;
    }
    ::unlink(path.c_str());  // a leftover of a previous supervisor with our pid
    int one = 1;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
        ::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
        error = "cannot set up notify socket " + path + ": " + std::strerror(errno);
        ::close(fd);
        ::unlink(path.c_str());
        return nullptr;
    }
    // Writable by all: a service may run as any user; the credentials check
    // decides who is heard (the directory is 0711).
    ::chmod(path.c_str(), 0666);
    return std::unique_ptr<NotifySocket>(
        new NotifySocket(loop, events, std::move(service), path, fd));
}

NotifySocket::NotifySocket(struct ev_loop* loop, Events& events, std::string service,
                           std::string path, int fd)
    : loop_(loop), events_(events), service_(std::move(service)), path_(std::move(path)), fd_(fd) {
    ev_io_init(&readable_, on_readable, fd_, EV_READ);
    readable_.data = this;
    ev_io_start(loop_, &readable_);
}

NotifySocket::~NotifySocket() {
    ev_io_stop(loop_, &readable_);
    ::close(fd_);
    ::unlink(path_.c_str());
}

void NotifySocket::on_readable(struct ev_loop*, ev_io* w, int) noexcept {
    try {
        static_cast<NotifySocket*>(w->data)->receive();
    } catch (...) {
        oops("reading a notify datagram");  // it is lost; the next one is read normally
    }
}

// One datagram per wake-up (the watcher is level-triggered, so the rest
// follow): the callbacks at the end may reach stop_all(), which destroys
// this socket, so nothing may touch *this after them.
void NotifySocket::receive() {
    char data[kMaxDatagram + 1];
    alignas(struct cmsghdr) char
        control[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * kMaxFds)];
    struct iovec iov = {data, kMaxDatagram};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    if (n < 0) return;  // EAGAIN, EINTR: nothing (more) to read

    // Credentials, and every descriptor closed whatever the message says:
    // closing the BARRIER=1 fd is its answer, and any other fd is unwanted.
    const struct ucred* cred = nullptr;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET) continue;
        if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
            cred = reinterpret_cast<const struct ucred*>(CMSG_DATA(c));
        } else if (c->cmsg_type == SCM_RIGHTS) {
            std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int passed;
                std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                ::close(passed);
            }
        }
    }
    if (static_cast<std::size_t>(n) > kMaxDatagram) return;  // truncated: not trusted
    if (!cred || !sender_belongs_to_service(cred->pid, cred->uid, service_pid_)) return;

    bool ready = false;
    bool has_status = false;
    std::string status;
    std::string_view text(data, static_cast<std::size_t>(n));
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (line == "READY=1") {
            ready = true;
        } else if (line.substr(0, 7) == "STATUS=") {
            status = std::string(line.substr(7));
            has_status = true;
        }
    }
    // Last, and nothing after it (see above).
    if (!has_status && !ready) return;
    Events& events = events_;
    const std::string service = service_;  // *this may go while the core handles it
    events.notify(service, ready,
                  has_status ? std::optional<std::string>(std::move(status)) : std::nullopt);
}

}  // namespace sv

namespace sv {

// A private directory for the notify sockets of this supervisor. Mode 0711
// rather than 0700: a service running as another user must reach its
// socket; the directory stays unlistable, and a datagram is accepted only
// from the service's own processes anyway.
std::string NotifySockets::make_dir(std::string& error) {
    if (!dir_.empty()) return dir_;
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
        dir_ = templ;
        return dir_;
    }
    error = "cannot create a directory for notify sockets in /run or /tmp: " +
            std::string(std::strerror(last_error));
    return "";
}

std::string NotifySockets::open(const std::string& service, std::string& error) {
    if (auto it = sockets_.find(service); it != sockets_.end()) return it->second->path();
    const std::string dir = make_dir(error);
    if (dir.empty()) return "";
    // Named after the service for whoever looks; characters that do not
    // belong in a file name are replaced. Too long for sun_path: a number.
    std::string name;
    for (char c : service) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        name += plain ? c : '_';
    }
    std::string path = dir + "/" + name + ".sock";
    if (name.empty() || name[0] == '.' || path.size() >= 100)
        path = dir + "/" + std::to_string(sockets_.size()) + ".sock";
    auto socket = NotifySocket::open(loop_, events_, service, path, error);
    if (!socket) return "";
    sockets_[service] = std::move(socket);
    return path;
}

void NotifySockets::set_service_pid(const std::string& service, pid_t pid) {
    if (auto it = sockets_.find(service); it != sockets_.end()) it->second->set_service_pid(pid);
}

void NotifySockets::keep_only(const std::vector<std::string>& services) {
    for (auto it = sockets_.begin(); it != sockets_.end();) {
        if (std::find(services.begin(), services.end(), it->first) == services.end())
            it = sockets_.erase(it);
        else
            ++it;
    }
}

void NotifySockets::close_all() {
    sockets_.clear();  // unlinks each socket file
    if (!dir_.empty()) {
        ::rmdir(dir_.c_str());
        dir_.clear();
    }
}

}  // namespace sv
