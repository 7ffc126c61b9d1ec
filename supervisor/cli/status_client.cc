// `supervisor status`: one GET /status to a running supervisor, printed as
// a table (or as the raw JSON with --json).
//
// This is a short-lived CLI, so it uses plain blocking sockets; every wait
// is a poll(2) against one overall 5 s deadline, so a supervisor that
// accepts but never answers cannot hang a script. The address comes from
// --addr or from the configuration's health_listen; a wildcard listen
// address is reached through the matching loopback address.
//
// Exit codes: 0 printed; 1 the supervisor could not be reached or gave no
// usable answer (or the endpoint is turned off); 2 usage or configuration
// error, as everywhere else.
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "address.h"
#include "cli.h"
#include "commands.h"
#include "config_file.h"
#include "json_read.h"
#include "status_render.h"

namespace sv {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kTimeout{5};
constexpr std::size_t kMaxAnswer = 16 * 1024 * 1024;

// What went wrong, as the errno text ("Connection refused").
struct Failure {
    std::string what;
};

int ms_left(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool wait_for(int fd, short events, Clock::time_point deadline, Failure& f) {
    pollfd p{fd, events, 0};
    for (;;) {
        const int n = ::poll(&p, 1, ms_left(deadline));
        if (n > 0) return true;
        if (n == 0) {
            f.what = "no answer within 5s";
            return false;
        }
        if (errno != EINTR) {
            f.what = std::strerror(errno);
            return false;
        }
    }
}

int connect_one(const addrinfo* ai, Clock::time_point deadline, Failure& f) {
    const int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        f.what = std::strerror(errno);
        return -1;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            f.what = std::strerror(errno);
            ::close(fd);
            return -1;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (!wait_for(fd, POLLOUT, deadline, f)) {
            ::close(fd);
            return -1;
        }
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            f.what = std::strerror(err ? err : errno);
            ::close(fd);
            return -1;
        }
    }
    return fd;
}

// Sends the request and reads the whole answer (the server closes after it).
bool fetch(int fd, const std::string& request, std::string& answer, Clock::time_point deadline,
           Failure& f) {
    std::size_t sent = 0;
    while (sent < request.size()) {
        if (!wait_for(fd, POLLOUT, deadline, f)) return false;
        const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            f.what = std::strerror(errno);
            return false;
        }
        if (n > 0) sent += static_cast<std::size_t>(n);
    }
    char buf[16384];
    for (;;) {
        if (!wait_for(fd, POLLIN, deadline, f)) return false;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0) return true;
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            f.what = std::strerror(errno);
            return false;
        }
        answer.append(buf, static_cast<std::size_t>(n));
        if (answer.size() > kMaxAnswer) {
            f.what = "answer too large";
            return false;
        }
    }
}

// Splits "HTTP/1.1 200 OK\r\n…\r\n\r\nbody": the status line and the body,
// trimmed to Content-Length when there is one.
bool split_answer(const std::string& answer, std::string& status_line, std::string& body) {
    const std::size_t eol = answer.find("\r\n");
    const std::size_t end = answer.find("\r\n\r\n");
    if (eol == std::string::npos || end == std::string::npos || answer.rfind("HTTP/1.", 0) != 0)
        return false;
    status_line = answer.substr(0, eol);
    body = answer.substr(end + 4);
    std::string head = answer.substr(0, end + 2);
    for (char& c : head)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const std::size_t cl = head.find("\r\ncontent-length:");
    if (cl != std::string::npos) {
        const unsigned long long n = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
        if (n < body.size()) body.resize(n);
    }
    return true;
}

std::string display(const std::string& host, const std::string& port) {
    return host.find(':') != std::string::npos ? "[" + host + "]:" + port : host + ":" + port;
}

}  // namespace

int run_status(const CliOptions& opts) {
    std::string address = opts.addr;
    if (address.empty()) {
        try {
            address =
                load_config_file(resolve_config_path(opts.config_path)).supervisor.health_listen;
        } catch (const ConfigError& e) {
            std::fprintf(stderr, "supervisor: %s\n", e.what());
            return 2;
        }
        if (address.empty()) {
            std::fprintf(stderr, "supervisor: the health endpoint is off (health_listen = \"\")\n");
            return 1;
        }
    }
    const auto hp = parse_host_port(address, {.allow_empty_host = true, .allow_port_zero = true});
    if (!hp) {
        std::fprintf(stderr, "supervisor: invalid address '%s' (expected HOST:PORT)\n",
                     address.c_str());
        return 2;
    }
    // A wildcard listen address is reached on the loopback of its family.
    std::string host = hp->host;
    const std::string& port = hp->port;
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
    const std::string where = display(host, port);

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
        std::fprintf(stderr, "supervisor: cannot reach %s: %s\n", where.c_str(),
                     rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc));
        return 1;
    }
    const auto deadline = Clock::now() + kTimeout;
    Failure f;
    int fd = -1;
    for (const addrinfo* ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = connect_one(ai, deadline, f);
    ::freeaddrinfo(res);

    std::string answer, status_line, body;
    const std::string request = "GET /status HTTP/1.1\r\nHost: " + where +
                                "\r\nAccept: application/json\r\nConnection: close\r\n\r\n";
    const bool ok = fd >= 0 && fetch(fd, request, answer, deadline, f);
    if (fd >= 0) ::close(fd);
    if (!ok) {
        std::fprintf(stderr, "supervisor: cannot reach %s: %s\n", where.c_str(), f.what.c_str());
        return 1;
    }
    if (!split_answer(answer, status_line, body)) {
        std::fprintf(stderr, "supervisor: %s did not answer in HTTP\n", where.c_str());
        return 1;
    }
    const bool ok200 = status_line.size() >= 12 && status_line.compare(8, 4, " 200") == 0 &&
                       (status_line.size() == 12 || status_line[12] == ' ');
    if (!ok200) {
        const std::string status = status_line.size() > 9 ? status_line.substr(9) : status_line;
        std::fprintf(stderr, "supervisor: %s answered \"%s\" to GET /status\n", where.c_str(),
                     status.c_str());
        return 1;
    }
    if (opts.json) {
        if (!body.empty() && body.back() != '\n') body += '\n';
        std::fputs(body.c_str(), stdout);
        return 0;
    }
    const std::optional<Snapshot> snap = parse_status_json(body);
    if (!snap) {
        std::fprintf(stderr, "supervisor: %s answered something other than a status document\n",
                     where.c_str());
        return 1;
    }
    std::fputs(render_status_table(*snap).c_str(), stdout);
    return 0;
}

}  // namespace sv
