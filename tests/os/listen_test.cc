// Listening sockets (os/listen.h) on the loopback interface: port 0, a
// connection through it, the errors users see, and ":PORT" on every family.
#include "listen.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <string>

namespace sv {
namespace {

// Closes every descriptor of a Listening at the end of the test, whatever
// happens in between.
struct Closer {
    explicit Closer(Listening& l) : listening(l) {}
    ~Closer() {
        for (int fd : listening.fds) ::close(fd);
    }
    Listening& listening;
};

std::uint16_t port_of(int fd, int* family = nullptr) {
    sockaddr_storage sa{};
    socklen_t len = sizeof sa;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
    if (family) *family = sa.ss_family;
    return ntohs(sa.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&sa)->sin_port
                                         : reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port);
}

// Connects to `host` (a numeric IPv4 or IPv6 address) on `port`, and checks
// that `listen_fd` can accept the connection within ten seconds.
void expect_connects(const char* host, std::uint16_t port, int listen_fd) {
    sockaddr_storage sa{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&sa);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&sa);
    if (::inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof *v4;
    } else {
        ASSERT_EQ(::inet_pton(AF_INET6, host, &v6->sin6_addr), 1) << host;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof *v6;
    }
    const int c = ::socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(c, 0);
    // On loopback the handshake completes through the backlog at once.
    EXPECT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&sa), len), 0)
        << host << ":" << port << ": " << std::strerror(errno);
    pollfd p{listen_fd, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 10000), 1) << "nothing to accept";
    const int accepted = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    EXPECT_GE(accepted, 0) << std::strerror(errno);
    if (accepted >= 0) ::close(accepted);
    ::close(c);
}

TEST(ListenTcp, PortZeroPicksAPort) {
    Listening l = listen_tcp("127.0.0.1:0", 16);
    Closer closer(l);
    EXPECT_EQ(l.error, "");
    ASSERT_EQ(l.fds.size(), 1u);
    EXPECT_NE(l.port, 0);
    EXPECT_EQ(port_of(l.fds[0]), l.port);
}

TEST(ListenTcp, NonBlockingAndCloseOnExec) {
    // The loop must never block in accept(), and no child may inherit it.
    Listening l = listen_tcp("127.0.0.1:0", 16);
    Closer closer(l);
    ASSERT_EQ(l.fds.size(), 1u);
    EXPECT_NE(::fcntl(l.fds[0], F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(::fcntl(l.fds[0], F_GETFD) & FD_CLOEXEC, 0);
}

TEST(ListenTcp, AcceptsAConnection) {
    Listening l = listen_tcp("127.0.0.1:0", 16);
    Closer closer(l);
    ASSERT_EQ(l.fds.size(), 1u);
    expect_connects("127.0.0.1", l.port, l.fds[0]);
}

TEST(ListenTcp, PortInUse) {
    Listening first = listen_tcp("127.0.0.1:0", 16);
    Closer closer(first);
    ASSERT_EQ(first.fds.size(), 1u);
    const std::string address = "127.0.0.1:" + std::to_string(first.port);
    Listening second = listen_tcp(address, 16);
    Closer closer2(second);
    EXPECT_TRUE(second.fds.empty());
    EXPECT_EQ(second.port, 0);
    EXPECT_EQ(second.error, "cannot listen on " + address + ": Address already in use");
}

TEST(ListenTcp, MalformedAddress) {
    for (const char* address : {"nonsense", "127.0.0.1", "127.0.0.1:65536", "::1:80", ""}) {
        Listening l = listen_tcp(address, 16);
        Closer closer(l);
        EXPECT_TRUE(l.fds.empty()) << address;
        EXPECT_EQ(l.error, std::string("cannot listen on ") + address +
                               ": expected HOST:PORT, [IPV6]:PORT or :PORT");
    }
}

TEST(ListenTcp, EveryInterfaceSharesOnePort) {
    // ":0" binds IPv4 and (where the system has it) IPv6, one port for both,
    // so the address printed for users is right for either.
    Listening l = listen_tcp(":0", 16);
    Closer closer(l);
    ASSERT_EQ(l.error, "");
    ASSERT_GE(l.fds.size(), 1u);
    ASSERT_LE(l.fds.size(), 2u);
    EXPECT_NE(l.port, 0);
    std::set<int> families;
    for (int fd : l.fds) {
        int family = 0;
        EXPECT_EQ(port_of(fd, &family), l.port);
        families.insert(family);
    }
    EXPECT_EQ(families.size(), l.fds.size());  // one socket per family
    for (int fd : l.fds) {
        int family = 0;
        port_of(fd, &family);
        expect_connects(family == AF_INET ? "127.0.0.1" : "::1", l.port, fd);
    }
}

TEST(ListenTcp, Ipv6Loopback) {
    Listening l = listen_tcp("[::1]:0", 16);
    Closer closer(l);
    if (l.fds.empty() && l.error.find("Cannot assign requested address") != std::string::npos)
        GTEST_SKIP() << "no IPv6 here: " << l.error;
    ASSERT_EQ(l.error, "");
    ASSERT_EQ(l.fds.size(), 1u);
    int family = 0;
    EXPECT_EQ(port_of(l.fds[0], &family), l.port);
    EXPECT_EQ(family, AF_INET6);
    expect_connects("::1", l.port, l.fds[0]);
}

}  // namespace
}  // namespace sv
