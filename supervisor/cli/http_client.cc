// One bounded HTTP GET to a running supervisor: see http_client.h.
#include "http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "address.h"
#include "config_file.h"
#include "name_service.h"

namespace sv {

namespace {

constexpr std::size_t kMaxAnswer = 16 * 1024 * 1024;

// One address to try, as connect(2) wants it.
struct Candidate {
    sockaddr_storage addr{};
    socklen_t len = 0;
};

int ms_left(TimePoint deadline) {
    const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

class Exchange {
  public:
    Exchange(TimePoint deadline, Duration timeout) : deadline_(deadline), timeout_(timeout) {}
    ~Exchange() {
        if (fd_ >= 0) ::close(fd_);
    }
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    bool connect(const std::vector<Candidate>& candidates);
    bool send_all(const std::string& request);
    bool read_all(std::string& answer);  // until the server closes
    const std::string& error() const { return error_; }

  private:
    bool wait_for(short events);
    bool fail(int err) {
        error_ = std::strerror(err);
        return false;
    }

    TimePoint deadline_;
    Duration timeout_;
    int fd_ = -1;
    std::string error_;
};

bool Exchange::wait_for(short events) {
    pollfd p{fd_, events, 0};
    for (;;) {
        const int n = ::poll(&p, 1, ms_left(deadline_));
        if (n > 0) return true;
        if (n == 0) {
            error_ = "no answer within " + format_duration(timeout_);
            return false;
        }
        if (errno != EINTR) return fail(errno);
    }
}

bool Exchange::connect(const std::vector<Candidate>& candidates) {
    for (const Candidate& c : candidates) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = ::socket(c.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd_ < 0) {
            fail(errno);
            continue;
        }
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&c.addr), c.len) == 0) return true;
        if (errno != EINPROGRESS) {
            fail(errno);
            continue;
        }
        if (!wait_for(POLLOUT)) return false;  // the deadline is shared: no next candidate
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err == 0) return true;
        fail(err);
    }
    return false;
}

bool Exchange::send_all(const std::string& request) {
    std::size_t sent = 0;
    while (sent < request.size()) {
        if (!wait_for(POLLOUT)) return false;
        const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) return fail(errno);
        if (n > 0) sent += static_cast<std::size_t>(n);
    }
    return true;
}

bool Exchange::read_all(std::string& answer) {
    char buf[16384];
    for (;;) {
        if (!wait_for(POLLIN)) return false;
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n == 0) return true;
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return fail(errno);
        }
        answer.append(buf, static_cast<std::size_t>(n));
        if (answer.size() > kMaxAnswer) {
            error_ = "answer too large";
            return false;
        }
    }
}

// Numeric addresses without the resolver (nothing to look up, and a static
// binary's getaddrinfo would still consult its NSS configuration); names
// through getaddrinfo. Empty with `error` set when nothing resolves.
std::vector<Candidate> resolve(const HttpTarget& t, std::string& error) {
    std::vector<Candidate> out;
    const auto port = static_cast<std::uint16_t>(std::strtoul(t.port.c_str(), nullptr, 10));
    Candidate c;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&c.addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&c.addr);
    if (::inet_pton(AF_INET, t.host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        c.len = sizeof *v4;
        out.push_back(c);
        return out;
    }
    c = Candidate{};
    if (::inet_pton(AF_INET6, t.host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        c.len = sizeof *v6;
        out.push_back(c);
        return out;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    prepare_name_service();
    const int rc = ::getaddrinfo(t.host.c_str(), t.port.c_str(), &hints, &res);
    if (rc != 0) {
        error = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
        return out;
    }
    for (const addrinfo* ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
        Candidate a;
        std::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
        a.len = ai->ai_addrlen;
        out.push_back(a);
    }
    ::freeaddrinfo(res);
    if (out.empty()) error = "no address";
    return out;
}

// "HTTP/1.1 200 OK\r\n…\r\n\r\nbody" -> the answer's fields; false when it
// is not HTTP.
bool split_answer(const std::string& raw, HttpResult& a) {
    const std::size_t eol = raw.find("\r\n");
    const std::size_t end = raw.find("\r\n\r\n");
    if (eol == std::string::npos || end == std::string::npos || raw.rfind("HTTP/1.", 0) != 0)
        return false;
    const std::string status_line = raw.substr(0, eol);
    a.status_text = status_line.size() > 9 ? status_line.substr(9) : status_line;
    // "HTTP/1.1 200" then the end or a space: exactly three digits.
    if (status_line.size() >= 12 && status_line[8] == ' ' &&
        (status_line.size() == 12 || status_line[12] == ' ')) {
        int code = 0;
        for (std::size_t i = 9; i < 12 && code >= 0; ++i)
            code = status_line[i] >= '0' && status_line[i] <= '9'
                       ? code * 10 + (status_line[i] - '0')
                       : -1;
        a.status = code > 0 ? code : 0;
    }
    a.body = raw.substr(end + 4);
    std::string head = raw.substr(0, end + 2);
    for (char& c : head)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const std::size_t cl = head.find("\r\ncontent-length:");
    if (cl != std::string::npos) {
        const unsigned long long n = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
        if (n < a.body.size()) a.body.resize(n);
    }
    return true;
}

}  // namespace

std::optional<HttpTarget> http_target(const std::string& address) {
    const auto hp = parse_host_port(address, {.allow_empty_host = true, .allow_port_zero = true});
    if (!hp) return std::nullopt;
    HttpTarget t;
    t.host = hp->host;
    t.port = hp->port;
    if (t.host.empty() || t.host == "0.0.0.0") t.host = "127.0.0.1";
    if (t.host == "::") t.host = "::1";
    t.where = t.host.find(':') != std::string::npos ? "[" + t.host + "]:" + t.port
                                                    : t.host + ":" + t.port;
    return t;
}

std::optional<HttpTarget> find_endpoint(const EndpointChoice& choice, int& exit_code) {
    std::string address = choice.addr;
    if (address.empty()) {
        const std::string path = resolve_config_path(choice.config_path);
        struct stat st;
        if (choice.default_without_file && choice.config_path.empty() &&
            ::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
            address = SupervisorConfig{}.health_listen;
        } else {
            try {
                address = load_config_file(path, /*env_files=*/false).supervisor.health_listen;
            } catch (const ConfigError& e) {
                std::fprintf(stderr, "supervisor: %s\n", e.what());
                exit_code = 2;
                return std::nullopt;
            }
            if (address.empty()) {
                std::fprintf(stderr,
                             "supervisor: the health endpoint is off (health_listen = \"\")\n");
                exit_code = 1;
                return std::nullopt;
            }
        }
    }
    std::optional<HttpTarget> target = http_target(address);
    if (!target) {
        std::fprintf(stderr, "supervisor: invalid address '%s' (expected HOST:PORT)\n",
                     address.c_str());
        exit_code = 2;
    }
    return target;
}

HttpResult http_get(const HttpTarget& target, const std::string& path, const std::string& accept,
                    Duration timeout) {
    const TimePoint deadline = Clock::now() + timeout;
    HttpResult a;
    const std::vector<Candidate> candidates = resolve(target, a.error);
    if (candidates.empty()) return a;
    Exchange x(deadline, timeout);
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + target.where +
                                "\r\nAccept: " + accept + "\r\nConnection: close\r\n\r\n";
    std::string raw;
    if (!x.connect(candidates)) {
        a.error = x.error();
        return a;
    }
    if (!x.send_all(request) || !x.read_all(raw)) {
        a.outcome = HttpResult::Outcome::NoAnswer;
        a.error = x.error();
        return a;
    }
    a.outcome = split_answer(raw, a) ? HttpResult::Outcome::Answered : HttpResult::Outcome::NotHttp;
    return a;
}

}  // namespace sv
