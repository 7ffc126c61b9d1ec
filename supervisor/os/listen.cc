// Listening sockets: see listen.h.
#include "listen.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "address.h"
#include "name_service.h"

namespace sv {

Listening listen_tcp(const std::string& address, int backlog) {
    Listening out;
    auto fail = [&](const std::string& why) {
        out.error = "cannot listen on " + address + ": " + why;
        return out;
    };
    const auto hp = parse_host_port(address, {.allow_empty_host = true, .allow_port_zero = true});
    if (!hp) return fail("expected HOST:PORT, [IPV6]:PORT or :PORT");

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    addrinfo* res = nullptr;
    prepare_name_service();
    const int rc = ::getaddrinfo(hp->host.empty() ? nullptr : hp->host.c_str(), hp->port.c_str(),
                                 &hints, &res);
    if (rc != 0) return fail(rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc));

    // With both families present (":9180", "localhost:9180") each gets its
    // own socket, so the IPv6 one must not claim IPv4 too; "[::]:9180"
    // alone is dual-stack, as users of Go and Node expect.
    bool v4 = false;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) v4 = v4 || ai->ai_family == AF_INET;
    std::vector<sockaddr_storage> bound;
    int hard_error = 0, soft_error = 0;
    for (addrinfo* ai = res; ai && !hard_error; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        sockaddr_storage sa{};
        std::memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
        auto* sin_port = ai->ai_family == AF_INET
                             ? &reinterpret_cast<sockaddr_in*>(&sa)->sin_port
                             : &reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port;
        if (*sin_port == 0 && out.port != 0) *sin_port = htons(out.port);  // ":0": one port for all
        bool duplicate = false;
        for (const auto& b : bound) duplicate = duplicate || std::memcmp(&b, &sa, sizeof sa) == 0;
        if (duplicate) continue;

        const int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int err = 0;
        if (fd < 0) {
            err = errno;
        } else {
            const int one = 1, v6only = v4 ? 1 : 0;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (ai->ai_family == AF_INET6)
                ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
            if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), ai->ai_addrlen) != 0 ||
                ::listen(fd, backlog) != 0)
                err = errno;
        }
        if (err != 0) {
            if (fd >= 0) ::close(fd);
            // A family the system lacks (no IPv6) is skipped; anything else
            // (address in use, permission) is the user's to know.
            const bool missing_family =
                err == EAFNOSUPPORT || err == EADDRNOTAVAIL || err == EPROTONOSUPPORT;
            (missing_family ? soft_error : hard_error) = err;
            continue;
        }
        sockaddr_storage local{};
        socklen_t len = sizeof local;
        if (out.port == 0 && ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0)
            out.port = ntohs(local.ss_family == AF_INET
                                 ? reinterpret_cast<sockaddr_in*>(&local)->sin_port
                                 : reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
        out.fds.push_back(fd);
        bound.push_back(sa);
    }
    ::freeaddrinfo(res);
    if (hard_error || out.fds.empty()) {
        for (int fd : out.fds) ::close(fd);
        out.fds.clear();
        out.port = 0;
        return fail(std::strerror(hard_error   ? hard_error
                                  : soft_error ? soft_error
                                               : EADDRNOTAVAIL));
    }
    return out;
}

}  // namespace sv
