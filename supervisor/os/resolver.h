// Host name lookups that never block the loop.
//
// getaddrinfo(3) blocks for as long as DNS takes, and getaddrinfo_a(3)
// starts a thread per lookup; PID 1 must do neither on its one loop. c-ares
// (Debian's libc-ares, a well-kept asynchronous resolver that reads
// /etc/hosts and /etc/resolv.conf as glibc does) sends the queries from its
// own non-blocking sockets, which we watch with ev_io, and tells us its next
// timeout, which we arm as one ev_timer. With no lookup in flight it has no
// socket and no timer, so an idle supervisor still makes no system call.
//
// Numeric hosts ("127.0.0.1", "::1") and "localhost" (RFC 6761: always the
// loopback) are answered without any lookup. Every answer is delivered from
// the loop, never from inside resolve(), so a caller may start a lookup in
// the middle of its own state transition.
#pragma once

#include <ev.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sv {

struct ResolvedAddress {
    sockaddr_storage addr{};
    socklen_t len = 0;
};

class Resolver {
  public:
    // Called once per lookup that was not cancelled: the addresses, or none
    // and an error text ("Domain name not found").
    using Done = std::function<void(std::vector<ResolvedAddress> addrs, std::string error)>;

    explicit Resolver(struct ev_loop* loop);
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // Starts looking up host:port (TCP). Returns an id for cancel().
    std::uint64_t resolve(const std::string& host, const std::string& port, Done done);

    // The answer of lookup `id` will not be delivered (unknown ids: nothing).
    void cancel(std::uint64_t id);

    // Lookups whose answer is still to be delivered.
    std::size_t pending() const { return pending_.size(); }

  private:
    struct Channel;
    struct Query;
    struct Ready {
        std::uint64_t id;
        std::vector<ResolvedAddress> addrs;
        std::string error;
    };

    void deliver_later(std::uint64_t id, std::vector<ResolvedAddress> addrs, std::string error);
    static void on_deliver(struct ev_loop*, ev_timer* w, int) noexcept;
    void deliver_ready();

    struct ev_loop* loop_;
    std::unique_ptr<Channel> channel_;  // created at the first lookup of a name
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, Done> pending_;
    std::vector<Ready> ready_;
    ev_timer deliver_;
};

}  // namespace sv
