// tcp and http probes: one non-blocking connection per attempt.
//
// tcp succeeds when connect(2) completes (SO_ERROR 0) and closes at once;
// that is all "the port accepts connections" can mean. http goes on to
// send a minimal HTTP/1.1 GET with "Connection: close" and reads only the
// status line: 2xx and 3xx are healthy (as Kubernetes' httpGet), anything
// else fails with "HTTP 503". No https: a probe of a local service does
// not need it, and TLS would be a dependency for nothing.
//
// Addresses are resolved at every attempt, so a name whose address changes
// is followed, without ever blocking the loop (resolver.h: numeric hosts
// and "localhost" need no lookup, names go to c-ares). When a name has
// several addresses (localhost: 127.0.0.1 and ::1) each is tried in turn
// within the same attempt, all within the attempt's timeout.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "address.h"
#include "probe_internal.h"
#include "resolver.h"

namespace sv::probe_detail {

namespace {

constexpr std::size_t kMaxStatusLine = 4096;

struct Target {
    std::string host, port;
    std::string host_header;  // http: the Host header
    std::string path;         // http: "/path?query"
    std::string shown;        // "127.0.0.1:5432", for messages
};

// The probe's address, by the rules of core/address.h. False when malformed
// (configuration validation has already refused such addresses).
bool parse_target(const ProbeConfig& config, Target& t) {
    if (config.kind == ProbeKind::Http) {
        auto url = parse_http_url(config.address);
        if (!url) return false;
        t.host = url->target.host;
        t.port = url->target.port;
        t.host_header = url->host_header;
        t.path = url->path;
        t.shown = url->target.text();
        return true;
    }
    auto hp = parse_host_port(config.address);
    if (!hp) return false;
    t.host = hp->host;
    t.port = hp->port;
    t.shown = config.address;
    return true;
}

class NetProbe final : public PollingProbe {
  public:
    NetProbe(ProbeHost& host, std::size_t index, ProbeRole role, const ProbeConfig& config)
        : PollingProbe(host, index, role, config), http_(config.kind == ProbeKind::Http) {
        valid_ = parse_target(config, target_);
        ev_init(&io_, on_io);
        io_.data = this;
    }
    ~NetProbe() override { cancel_attempt(); }

  protected:
    void start_attempt() override {
        if (!valid_) {
            complete(false, "invalid address \"" + config_.address + "\"");
            return;
        }
        addrs_.clear();
        next_addr_ = 0;
        last_error_ = 0;
        state_ = State::Resolving;
        // Never blocks: a numeric host is answered at once, a name by
        // c-ares (resolver.h); either way from the loop, later.
        lookup_ = host_.resolver().resolve(
            target_.host, target_.port,
            [this](std::vector<ResolvedAddress> addrs, std::string error) {
                lookup_ = 0;
                try {
                    if (addrs.empty()) {
                        state_ = State::Idle;
                        complete(false, "resolve " + target_.shown + ": " + error);
                        return;
                    }
                    addrs_ = std::move(addrs);
                    connect_next();
                } catch (...) {
                    recover("connecting a tcp/http probe");
                }
            });
    }

    void cancel_attempt() override {
        if (lookup_ != 0) host_.resolver().cancel(lookup_);
        lookup_ = 0;
        ev_io_stop(host_.loop(), &io_);
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        state_ = State::Idle;
    }

  private:
    enum class State { Idle, Resolving, Connecting, Sending, Receiving };

    static void on_io(struct ev_loop*, ev_io* w, int) noexcept {
        auto* self = static_cast<NetProbe*>(w->data);
        try {
            switch (self->state_) {
                case State::Connecting:
                    self->connected();
                    break;
                case State::Sending:
                    self->send_request();
                    break;
                case State::Receiving:
                    self->receive();
                    break;
                case State::Idle:
                case State::Resolving:
                    ev_io_stop(self->host_.loop(), w);
                    break;
            }
        } catch (...) {
            self->recover("running a tcp/http probe");
        }
    }

    void watch(int events) {
        ev_io_stop(host_.loop(), &io_);
        ev_io_set(&io_, fd_, events);
        ev_io_start(host_.loop(), &io_);
    }

    // Every path ends in complete() as its last action (see probe_internal.h).
    void fail(const std::string& what, int err) {
        cancel_attempt();
        complete(false, what + " " + target_.shown + ": " + std::strerror(err));
    }

    void connect_next() {
        while (next_addr_ < addrs_.size()) {
            const sockaddr_storage& sa = addrs_[next_addr_].addr;
            const socklen_t len = addrs_[next_addr_].len;
            ++next_addr_;
            fd_ = ::socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd_ < 0) {
                last_error_ = errno;
                continue;
            }
            if (::connect(fd_, reinterpret_cast<const sockaddr*>(&sa), len) == 0) {
                on_connected();
                return;
            }
            if (errno == EINPROGRESS) {
                state_ = State::Connecting;
                watch(EV_WRITE);
                return;
            }
            last_error_ = errno;
            ::close(fd_);
            fd_ = -1;
        }
        fail("connect to", last_error_ ? last_error_ : EADDRNOTAVAIL);
    }

    void connected() {
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
        if (err == 0) {
            on_connected();
            return;
        }
        last_error_ = err;
        cancel_attempt();
        connect_next();  // the next address, or the verdict
    }

    void on_connected() {
        if (!http_) {
            cancel_attempt();
            complete(true, "connected to " + target_.shown);
            return;
        }
        request_ = "GET " + target_.path + " HTTP/1.1\r\nHost: " + target_.host_header +
                   "\r\nConnection: close\r\nUser-Agent: supervisor-probe\r\nAccept: */*\r\n\r\n";
        sent_ = 0;
        response_.clear();
        state_ = State::Sending;
        send_request();
    }

    void send_request() {
        while (sent_ < request_.size()) {
            ssize_t n = ::send(fd_, request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                watch(EV_WRITE);
                return;
            }
            if (n < 0) {
                fail("send to", errno);
                return;
            }
            sent_ += static_cast<std::size_t>(n);
        }
        state_ = State::Receiving;
        watch(EV_READ);
    }

    void receive() {
        char buf[1024];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return;
            fail("read from", errno);
            return;
        }
        response_.append(buf, static_cast<std::size_t>(n));
        std::size_t eol = response_.find('\n');
        if (eol == std::string::npos) {
            if (n > 0 && response_.size() < kMaxStatusLine) return;  // more to come
            cancel_attempt();
            complete(false, n == 0 ? "connection closed by " + target_.shown + " before a response"
                                   : "invalid HTTP response from " + target_.shown);
            return;
        }
        int status = parse_status_line(std::string_view(response_).substr(0, eol));
        cancel_attempt();
        if (status < 0) {
            complete(false, "invalid HTTP response from " + target_.shown);
            return;
        }
        complete(status >= 200 && status < 400, "HTTP " + std::to_string(status));
    }

    const bool http_;
    bool valid_ = false;
    Target target_;
    std::vector<ResolvedAddress> addrs_;
    std::uint64_t lookup_ = 0;  // the lookup in flight, or 0
    std::size_t next_addr_ = 0;
    int last_error_ = 0;
    int fd_ = -1;
    State state_ = State::Idle;
    std::string request_;
    std::size_t sent_ = 0;
    std::string response_;
    ev_io io_;
};

}  // namespace

int parse_status_line(std::string_view line) {
    // "HTTP/1.1 200 OK" (reason optional, '\r' tolerated).
    if (line.substr(0, 5) != "HTTP/") return -1;
    std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp + 4 > line.size()) return -1;
    int code = 0;
    for (std::size_t i = sp + 1; i < sp + 4; ++i) {
        if (line[i] < '0' || line[i] > '9') return -1;
        code = code * 10 + (line[i] - '0');
    }
    if (sp + 4 < line.size() && line[sp + 4] != ' ' && line[sp + 4] != '\r') return -1;
    return code >= 100 ? code : -1;
}

std::unique_ptr<Probe> make_net_probe(ProbeHost& host, std::size_t index, ProbeRole role,
                                      const ProbeConfig& config) {
    return std::make_unique<NetProbe>(host, index, role, config);
}

}  // namespace sv::probe_detail
