// Host name lookups on the loop, with c-ares: see resolver.h.
#include "resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "name_service.h"
#include "oops.h"

namespace sv {

namespace {

bool numeric(const std::string& host, std::uint16_t port, ResolvedAddress& out) {
    out = ResolvedAddress{};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        out.len = sizeof(sockaddr_in);
        return true;
    }
    out = ResolvedAddress{};
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        out.len = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

std::uint16_t port_number(const std::string& port) {
    unsigned n = 0;
    for (char c : port)
        if (c >= '0' && c <= '9') n = n * 10 + static_cast<unsigned>(c - '0');
    return static_cast<std::uint16_t>(n);
}

}  // namespace

// The c-ares channel and the watchers of its sockets and of its one timer.
struct Resolver::Channel {
    struct Socket {
        ev_io io;
        Channel* channel;
    };

    explicit Channel(struct ev_loop* l) : loop(l) {
        ev_init(&timer, on_timer);
        timer.data = this;
    }
    ~Channel() {
        // Calls each pending query's callback with ARES_EDESTRUCTION, and
        // closes the sockets (through on_sock_state).
        if (ok) ares_destroy(channel);
        for (auto& [fd, s] : sockets) ev_io_stop(loop, &s->io);
        ev_timer_stop(loop, &timer);
    }

    bool init(std::string& error) {
        // c-ares reads the files itself, but may still ask glibc (a named
        // service, the local user's files): pin NSS first in a static build.
        prepare_name_service();
        static const int library = ares_library_init(ARES_LIB_INIT_ALL);
        if (library != ARES_SUCCESS) {
            error = ares_strerror(library);
            return false;
        }
        ares_options options{};
        options.sock_state_cb = on_sock_state;
        options.sock_state_cb_data = this;
        const int rc = ares_init_options(&channel, &options, ARES_OPT_SOCK_STATE_CB);
        if (rc != ARES_SUCCESS) {
            error = ares_strerror(rc);
            return false;
        }
        ok = true;
        return true;
    }

    // c-ares opened, changed or closed one of its sockets.
    static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
        auto* self = static_cast<Channel*>(data);
        auto it = self->sockets.find(fd);
        if (!readable && !writable) {
            if (it != self->sockets.end()) {
                ev_io_stop(self->loop, &it->second->io);
                self->sockets.erase(it);
            }
            return;
        }
        if (it == self->sockets.end()) {
            auto s = std::make_unique<Socket>();
            s->channel = self;
            ev_init(&s->io, on_io);
            s->io.data = s.get();
            it = self->sockets.emplace(fd, std::move(s)).first;
        }
        ev_io& io = it->second->io;
        ev_io_stop(self->loop, &io);
        ev_io_set(&io, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
        ev_io_start(self->loop, &io);
    }

    static void on_io(struct ev_loop*, ev_io* w, int revents) noexcept {
        auto* s = static_cast<Socket*>(w->data);
        Channel* self = s->channel;
        const int fd = w->fd;
        ares_process_fd(self->channel, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
                        (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
        self->rearm();
    }

    static void on_timer(struct ev_loop*, ev_timer* w, int) noexcept {
        auto* self = static_cast<Channel*>(w->data);
        ares_process_fd(self->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        self->rearm();
    }

    // One timer at c-ares's next timeout; none when nothing is in flight.
    void rearm() {
        ev_timer_stop(loop, &timer);
        timeval tv;
        if (const timeval* t = ares_timeout(channel, nullptr, &tv)) {
            ev_timer_set(&timer, static_cast<double>(t->tv_sec) + t->tv_usec / 1e6, 0.);
            ev_timer_start(loop, &timer);
        }
    }

    struct ev_loop* loop;
    ares_channel channel = nullptr;
    bool ok = false;
    std::map<int, std::unique_ptr<Socket>> sockets;
    ev_timer timer;
};

// What c-ares gets as its callback's argument.
struct Resolver::Query {
    Resolver* resolver;
    std::uint64_t id;

    static void done(void* arg, int status, int, ares_addrinfo* res) {
        std::unique_ptr<Query> q(static_cast<Query*>(arg));
        std::vector<ResolvedAddress> addrs;
        std::string error;
        if (status == ARES_SUCCESS && res) {
            for (ares_addrinfo_node* n = res->nodes; n; n = n->ai_next) {
                if (n->ai_family != AF_INET && n->ai_family != AF_INET6) continue;
                ResolvedAddress a;
                a.len = std::min<socklen_t>(n->ai_addrlen, sizeof a.addr);
                std::memcpy(&a.addr, n->ai_addr, a.len);
                addrs.push_back(a);
            }
            if (addrs.empty()) error = "no IPv4 or IPv6 address";
        } else {
            error = ares_strerror(status);
        }
        if (res) ares_freeaddrinfo(res);
        // The channel is being destroyed with the resolver: nobody to tell.
        if (status == ARES_EDESTRUCTION) return;
        q->resolver->deliver_later(q->id, std::move(addrs), std::move(error));
    }
};

Resolver::Resolver(struct ev_loop* loop) : loop_(loop) {
    ev_init(&deliver_, on_deliver);
    deliver_.data = this;
}

Resolver::~Resolver() {
    pending_.clear();
    channel_.reset();
    ev_timer_stop(loop_, &deliver_);
}

std::uint64_t Resolver::resolve(const std::string& host, const std::string& port, Done done) {
    const std::uint64_t id = next_id_++;
    pending_.emplace(id, std::move(done));
    const std::uint16_t number = port_number(port);
    ResolvedAddress a;
    if (numeric(host, number, a)) {
        deliver_later(id, {a}, "");
        return id;
    }
    if (host == "localhost") {
        ResolvedAddress v6;
        numeric("127.0.0.1", number, a);
        numeric("::1", number, v6);
        deliver_later(id, {a, v6}, "");
        return id;
    }
    if (!channel_) {
        auto channel = std::make_unique<Channel>(loop_);
        std::string error;
        if (!channel->init(error)) {
            deliver_later(id, {}, "cannot start the resolver: " + error);
            return id;
        }
        channel_ = std::move(channel);
    }
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = ARES_AI_NUMERICSERV;
    // May call back at once (a name from /etc/hosts): Query::done defers it.
    ares_getaddrinfo(channel_->channel, host.c_str(), port.c_str(), &hints, Query::done,
                     new Query{this, id});
    channel_->rearm();
    return id;
}

void Resolver::cancel(std::uint64_t id) {
    // The query itself runs to its end; its answer finds no taker.
    pending_.erase(id);
}

void Resolver::deliver_later(std::uint64_t id, std::vector<ResolvedAddress> addrs,
                             std::string error) {
    ready_.push_back({id, std::move(addrs), std::move(error)});
    if (!ev_is_active(&deliver_)) {
        ev_timer_set(&deliver_, 0., 0.);
        ev_timer_start(loop_, &deliver_);
    }
}

void Resolver::on_deliver(struct ev_loop*, ev_timer* w, int) noexcept {
    try {
        static_cast<Resolver*>(w->data)->deliver_ready();
    } catch (...) {
        // The lookups not yet delivered are lost; the probes' own timeouts
        // end those attempts.
        oops("delivering a name lookup");
    }
}

void Resolver::deliver_ready() {
    std::vector<Ready> batch;
    batch.swap(ready_);
    for (Ready& r : batch) {
        auto it = pending_.find(r.id);
        if (it == pending_.end()) continue;  // cancelled
        Done done = std::move(it->second);
        pending_.erase(it);
        done(std::move(r.addrs), std::move(r.error));
    }
}

}  // namespace sv
