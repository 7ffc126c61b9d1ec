// The health endpoint on the libev loop.
//
// It runs inside PID 1, so it must never block the loop and must bound
// everything a client can make it hold:
//   - memory: each connection has a fixed request buffer of kMaxRequestHead
//     bytes (a head that does not fit is answered 431), and stops reading
//     while more than kMaxPendingOutput bytes of answers wait to be sent;
//   - time: a request head must be complete within 5 s of its first byte
//     (or of the connection), a keep-alive connection may idle 30 s, a
//     stalled write gets 30 s, and a closing connection lingers at most 2 s;
//   - descriptors: at most 256 connections. At the cap, or when accept(2)
//     runs out of descriptors, the least recently active connection that
//     waits on its client (idle, or dribbling a head) is closed to make room,
//     so that a probe still gets through a flood of idle connections. Only a
//     connection with answers still to send is never evicted.
//
// Connections sit in an intrusive LRU list (no allocation to move one).
// Timers are lazy, as ev(3) recommends for many timeouts: each connection
// keeps timestamps and one ev_timer that fires no later than its nearest
// deadline; the callback re-arms itself when the deadline moved on, so the
// hot keep-alive path touches no timer at all.
//
// The request parser is called again only when a new line has arrived (a
// head can only end with one), so a client sending a head byte by byte
// costs at most one parse per line.
//
// Closing is lingering (as nginx's lingering_close): after the last answer
// the write side is shut down and input is discarded until the client
// closes, since closing with unread input sends an RST that can destroy the
// 400/431 answer before the client reads it.
//
// What to answer is decided by core/endpoint.h; this file moves bytes.
// Every libev callback is a static noexcept function that catches
// everything; an exception from the snapshot or a renderer becomes a 500.
#include "http_server.h"

#include <ev.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string_view>
#include <utility>
#include <vector>

#include "endpoint.h"
#include "http_parse.h"
#include "listen.h"
#include "oops.h"

namespace sv {

namespace {

constexpr std::size_t kMaxConnections = 256;
// The kernel's own cap (net.core.somaxconn, 4096 by default): a burst of
// more connections than we accept per wake-up must queue, not be dropped
// (a dropped SYN costs the client a 1 s retransmit, failing a 1 s probe).
constexpr int kListenBacklog = SOMAXCONN;
constexpr ev_tstamp kHeadTimeout = 5.0;
constexpr ev_tstamp kIdleTimeout = 30.0;
constexpr ev_tstamp kWriteTimeout = 30.0;
constexpr ev_tstamp kLingerTimeout = 2.0;
constexpr ev_tstamp kAcceptPause = 0.1;  // after EMFILE with nothing to evict
constexpr std::size_t kMaxPendingOutput = 64 * 1024;
constexpr int kLingerReadsPerWakeup = 16;

}  // namespace

struct HttpServer::Impl {
    struct Conn;  // nested, so that the names stay ours alone in the program
    struct Listener;

    struct ev_loop* loop;
    StatusSource& source;
    std::vector<std::unique_ptr<Listener>> listeners;
    ev_timer accept_pause;
    std::uint16_t port = 0;

    // LRU list of connections: front = least recently active.
    Conn* front = nullptr;
    Conn* back = nullptr;
    std::size_t count = 0;

    HttpRequest req;  // reused by every parse, so its strings keep their capacity
    std::time_t date_second = -1;
    char date[40] = {};  // "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"

    Impl(struct ev_loop* l, StatusSource& src) : loop(l), source(src) {}

    static void on_accept(struct ev_loop* loop, ev_io* w, int revents) noexcept;
    static void on_accept_pause(struct ev_loop* loop, ev_timer* w, int revents) noexcept;
    static void on_conn_io(struct ev_loop* loop, ev_io* w, int revents) noexcept;
    static void on_conn_timer(struct ev_loop* loop, ev_timer* w, int revents) noexcept;

    void accept_all(Listener& l);
    bool evict_one();
    void open_conn(int fd);
    void close_conn(Conn* c);
    void touch(Conn* c);

    bool handle_read(Conn* c);
    bool process(Conn* c);
    bool flush(Conn* c);
    void update_watchers(Conn* c);
    ev_tstamp deadline(const Conn* c) const;
    void expire(Conn* c);

    void respond(Conn* c, const HttpRequest& r);
    void write_response(Conn* c, const HttpAnswer& a, bool head_only);
    void refresh_date();
};

struct HttpServer::Impl::Listener {
    Impl* srv = nullptr;
    int fd = -1;
    ev_io io;
};

struct HttpServer::Impl::Conn {
    Impl* srv = nullptr;
    int fd = -1;
    ev_io io;
    ev_timer timer;
    int events = 0;
    ev_tstamp timer_at = 0;  // when the armed timer fires

    Conn* prev = nullptr;  // LRU neighbours
    Conn* next = nullptr;

    bool in_head = true;       // waiting for (the rest of) a head: the 5 s deadline runs
    bool closing = false;      // close once the pending answers are sent
    bool lingering = false;    // answers sent, write side shut: discard input until EOF
    bool stalled = false;      // stopped parsing because too much output is pending
    int version_minor = 1;     // of the request being answered
    ev_tstamp head_start = 0;  // first byte of the current head (or the accept)
    ev_tstamp last_active = 0;
    ev_tstamp last_write = 0;
    ev_tstamp linger_start = 0;

    std::string out;  // answers not yet sent, from out_off on
    std::size_t out_off = 0;
    std::size_t in_len = 0;
    char in[kMaxRequestHead];

    bool output_pending() const { return out_off < out.size(); }
};

// ---- accepting --------------------------------------------------------------

void HttpServer::Impl::on_accept(struct ev_loop*, ev_io* w, int) noexcept {
    auto* l = static_cast<Listener*>(w->data);
    try {
        l->srv->accept_all(*l);
    } catch (...) {
        oops("accepting a connection");  // the connection was closed; go on
    }
}

void HttpServer::Impl::on_accept_pause(struct ev_loop* loop, ev_timer* w, int) noexcept {
    auto* s = static_cast<Impl*>(w->data);
    for (auto& l : s->listeners) ev_io_start(loop, &l->io);
}

void HttpServer::Impl::accept_all(Listener& l) {
    for (;;) {
        const int fd = ::accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of descriptors: free one if a client is only idling,
                // else stop accepting for a moment rather than spin on a
                // listening socket that stays readable.
                if (evict_one()) continue;
                for (auto& other : listeners) ev_io_stop(loop, &other->io);
                ev_timer_set(&accept_pause, kAcceptPause, 0);
                ev_timer_start(loop, &accept_pause);
            }
            return;  // EAGAIN, or an error we cannot act on
        }
        if (count >= kMaxConnections && !evict_one()) {
            ::close(fd);  // every connection is busy sending: refuse the newcomer
            continue;
        }
        open_conn(fd);
    }
}

// Closes the least recently active connection that is waiting on its
// client. Returns false when every connection still has answers to send.
bool HttpServer::Impl::evict_one() {
    for (Conn* c = front; c; c = c->next) {
        if (!c->output_pending()) {
            close_conn(c);
            return true;
        }
    }
    return false;
}

void HttpServer::Impl::open_conn(int fd) {
    Conn* c = nullptr;
    try {
        c = new Conn;
    } catch (...) {
        ::close(fd);
        throw;
    }
    const int one = 1;
    // Each answer leaves in one send(); do not let Nagle hold the next one.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->srv = this;
    c->fd = fd;
    c->head_start = c->last_active = c->last_write = ev_now(loop);
    ev_io_init(&c->io, on_conn_io, fd, 0);
    c->io.data = c;
    ev_init(&c->timer, on_conn_timer);
    c->timer.data = c;
    c->prev = back;
    (back ? back->next : front) = c;
    back = c;
    ++count;
    update_watchers(c);
}

void HttpServer::Impl::close_conn(Conn* c) {
    ev_io_stop(loop, &c->io);
    ev_timer_stop(loop, &c->timer);
    ::close(c->fd);
    (c->prev ? c->prev->next : front) = c->next;
    (c->next ? c->next->prev : back) = c->prev;
    --count;
    delete c;
}

void HttpServer::Impl::touch(Conn* c) {
    c->last_active = ev_now(loop);
    if (c == back) return;
    (c->prev ? c->prev->next : front) = c->next;
    c->next->prev = c->prev;
    c->prev = back;
    c->next = nullptr;
    back->next = c;
    back = c;
}

// ---- one connection ---------------------------------------------------------

void HttpServer::Impl::on_conn_io(struct ev_loop*, ev_io* w, int revents) noexcept {
    auto* c = static_cast<Conn*>(w->data);
    Impl* s = c->srv;
    try {
        if ((revents & EV_READ) && !s->handle_read(c)) return;
        if ((revents & EV_WRITE) && !s->flush(c)) return;
    } catch (...) {
        oops("serving an endpoint connection");
        s->close_conn(c);
    }
}

void HttpServer::Impl::on_conn_timer(struct ev_loop* loop, ev_timer* w, int) noexcept {
    auto* c = static_cast<Conn*>(w->data);
    Impl* s = c->srv;
    try {
        const ev_tstamp at = s->deadline(c);
        if (at > ev_now(loop) + 0.001) {  // the deadline moved on since the timer was armed
            c->timer_at = at;
            ev_timer_set(w, at - ev_now(loop), 0);
            ev_timer_start(loop, w);
            return;
        }
        s->expire(c);
    } catch (...) {
        oops("expiring an endpoint connection");
        s->close_conn(c);
    }
}

ev_tstamp HttpServer::Impl::deadline(const Conn* c) const {
    if (c->lingering) return c->linger_start + kLingerTimeout;
    if (c->output_pending()) return c->last_write + kWriteTimeout;
    if (c->in_head) return c->head_start + kHeadTimeout;
    return c->last_active + kIdleTimeout;
}

void HttpServer::Impl::expire(Conn* c) {
    if (!c->lingering && !c->output_pending() && c->in_head && c->in_len > 0) {
        // Part of a head came, but not all of it in time: say so, best effort.
        c->closing = true;
        write_response(c, HttpAnswer{408, "text/plain; charset=utf-8", "request timeout\n", {}},
                       false);
        (void)::send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    close_conn(c);
}

// Watchers follow the state: read while a head may come (or while
// lingering), write while answers wait; the timer only ever moves earlier here.
void HttpServer::Impl::update_watchers(Conn* c) {
    int want = 0;
    if (c->lingering || (!c->closing && !c->stalled && c->in_len < kMaxRequestHead))
        want |= EV_READ;
    if (c->output_pending()) want |= EV_WRITE;
    if (want != c->events) {
        ev_io_stop(loop, &c->io);
        ev_io_set(&c->io, c->fd, want);
        if (want) ev_io_start(loop, &c->io);
        c->events = want;
    }
    const ev_tstamp at = deadline(c);
    if (!ev_is_active(&c->timer) || at < c->timer_at) {
        ev_timer_stop(loop, &c->timer);
        ev_timer_set(&c->timer, std::max(0.0, at - ev_now(loop)), 0);
        ev_timer_start(loop, &c->timer);
        c->timer_at = at;
    }
}

// Returns false when the connection was closed.
bool HttpServer::Impl::handle_read(Conn* c) {
    if (c->lingering) {
        // Bounded per wake-up: a client that keeps sending must not hold
        // the loop; the rest waits for the next round, and the linger
        // timeout (2 s) ends it anyway.
        char sink[4096];
        for (int round = 0; round < kLingerReadsPerWakeup; ++round) {
            const ssize_t n = ::recv(c->fd, sink, sizeof sink, 0);
            if (n > 0) continue;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
            close_conn(c);  // EOF or error: the client has our answer
            return false;
        }
        return true;
    }
    const std::size_t before = c->in_len;
    if (before == kMaxRequestHead) return true;  // a stale EV_READ; a full buffer is never read
    const ssize_t n = ::recv(c->fd, c->in + before, kMaxRequestHead - before, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
        close_conn(c);
        return false;
    }
    if (n == 0) {  // the client closed: finish sending what it asked for, then close
        if (!c->output_pending()) {
            close_conn(c);
            return false;
        }
        c->closing = true;
        c->in_len = 0;
        update_watchers(c);
        return true;
    }
    if (before == 0 && !c->in_head) {
        c->in_head = true;
        c->head_start = ev_now(loop);
    }
    c->in_len += static_cast<std::size_t>(n);
    touch(c);
    // A head ends with a line feed: without a new one, parsing again can
    // only find what it found last time, unless this is the first chunk
    // (reject garbage early) or the buffer is full (431).
    const bool new_line = std::memchr(c->in + before, '\n', static_cast<std::size_t>(n)) != nullptr;
    if (new_line || before == 0 || c->in_len == kMaxRequestHead) return process(c);
    update_watchers(c);
    return true;
}

// Answers every complete head in the buffer, in order. Returns false when
// the connection was closed.
bool HttpServer::Impl::process(Conn* c) {
    std::size_t off = 0;
    c->stalled = false;
    if (c->out_off > 0) {  // drop what was sent, so `out` stays within the pending bound
        c->out.erase(0, c->out_off);
        c->out_off = 0;
    }
    while (!c->closing && off < c->in_len) {
        if (c->out.size() - c->out_off >= kMaxPendingOutput) {
            c->stalled = true;  // the client is not reading: neither do we
            break;
        }
        const std::string_view data(c->in + off, c->in_len - off);
        const ParseStatus st = parse_request(data, req);
        if (st == ParseStatus::Incomplete) break;
        if (st == ParseStatus::Complete) {
            respond(c, req);
            off += req.head_length;
            continue;
        }
        // Bad or TooLarge: answer, then close; the rest of the input is lost.
        c->closing = true;
        c->version_minor = 1;
        write_response(c, answer_parse_error(st, req), false);
        off = c->in_len;
    }
    if (off > 0) {
        c->in_len -= off;
        std::memmove(c->in, c->in + off, c->in_len);
        c->in_head = c->in_len > 0;  // a pipelined head has begun
        c->head_start = c->last_active = ev_now(loop);
    }
    return flush(c);
}

// Sends what it can. Returns false when the connection was closed.
bool HttpServer::Impl::flush(Conn* c) {
    while (c->output_pending()) {
        const ssize_t n =
            ::send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += static_cast<std::size_t>(n);
            c->last_write = ev_now(loop);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        close_conn(c);  // EPIPE, ECONNRESET: the client is gone
        return false;
    }
    if (!c->output_pending()) {
        c->out.clear();  // keeps its capacity for the next answer
        c->out_off = 0;
        if (c->closing && !c->lingering) {
            ::shutdown(c->fd, SHUT_WR);
            c->lingering = true;
            c->linger_start = ev_now(loop);
            c->in_len = 0;
        } else if (c->stalled) {
            return process(c);
        }
    }
    update_watchers(c);
    return true;
}

// ---- answers ----------------------------------------------------------------

void HttpServer::Impl::respond(Conn* c, const HttpRequest& r) {
    c->version_minor = r.version_minor;
    if (!r.keep_alive) c->closing = true;
    const bool head_only = r.method == "HEAD";
    const std::size_t mark = c->out.size();
    try {
        write_response(c, answer_request(r, source), head_only);
    } catch (...) {
        // The snapshot or a renderer failed (out of memory): drop what may
        // have been half-written by this answer and say so.
        c->out.resize(mark);
        write_response(c, answer_internal_error(), head_only);
    }
}

void HttpServer::Impl::write_response(Conn* c, const HttpAnswer& a, bool head_only) {
    refresh_date();
    char num[24];
    std::string& o = c->out;
    o += "HTTP/1.1 ";
    o.append(num, std::to_chars(num, num + sizeof num, a.status).ptr);
    o += ' ';
    o += reason_phrase(a.status);
    o += "\r\n";
    o += date;
    o += "Content-Type: ";
    o += a.content_type;
    o += "\r\nContent-Length: ";
    o.append(num, std::to_chars(num, num + sizeof num, a.body.size()).ptr);
    o += "\r\n";
    o += a.extra_headers;
    if (c->closing)
        o += "Connection: close\r\n";
    else if (c->version_minor == 0)
        o += "Connection: keep-alive\r\n";
    o += "\r\n";
    if (!head_only) o += a.body;
}

// RFC 9110 §6.6.1: an origin server with a clock sends Date. It changes once
// a second, so it is formatted once a second, without the locale.
void HttpServer::Impl::refresh_date() {
    static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto now = static_cast<std::time_t>(ev_now(loop));
    if (now == date_second) return;
    std::tm tm;
    if (!::gmtime_r(&now, &tm)) return;
    std::snprintf(date, sizeof date, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
                  kDays[tm.tm_wday % 7], tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    date_second = now;
}

// ---- the public face --------------------------------------------------------

HttpServer::HttpServer(struct ev_loop* loop, StatusSource& source)
    : impl_(std::make_unique<Impl>(loop, source)) {
    ev_init(&impl_->accept_pause, Impl::on_accept_pause);
    impl_->accept_pause.data = impl_.get();
}

HttpServer::~HttpServer() {
    while (impl_->front) impl_->close_conn(impl_->front);
    for (auto& l : impl_->listeners) {
        ev_io_stop(impl_->loop, &l->io);
        ::close(l->fd);
    }
    ev_timer_stop(impl_->loop, &impl_->accept_pause);
}

std::uint16_t HttpServer::port() const {
    return impl_->port;
}

std::string HttpServer::listen(const std::string& address) {
    Listening l = listen_tcp(address, kListenBacklog);
    if (!l.error.empty()) return l.error;
    for (int fd : l.fds) {
        auto listener = std::make_unique<Impl::Listener>();
        listener->srv = impl_.get();
        listener->fd = fd;
        ev_io_init(&listener->io, Impl::on_accept, fd, EV_READ);
        listener->io.data = listener.get();
        ev_io_start(impl_->loop, &listener->io);
        impl_->listeners.push_back(std::move(listener));
    }
    if (impl_->port == 0) impl_->port = l.port;
    return {};
}

}  // namespace sv
