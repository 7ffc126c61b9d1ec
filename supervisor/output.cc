// Service output on the libev loop (see output.h and docs/logging.md).
//
// Two halves meet here. On one side, the read ends of the services' pipes:
// each readable pipe is read (one 64 KiB read per wake-up, so one chatty
// service cannot starve the others), cut into lines, and every line is
// queued as "NAME | line\n" for the supervisor's stdout or stderr. On the
// other side, the two destinations: each has a queue of bytes that is
// written out without ever blocking the loop.
//
// Not blocking on a shared fd 1/2 is the delicate part. Services in
// `log = "inherit"` mode write to the very same open file description, so
// setting O_NONBLOCK on it would hand them EAGAIN they do not expect. We
// therefore never touch its flags and pick a way to write per file type:
//   - pipe or character device (terminal, /dev/null): reopen it through
//     /proc/self/fd/N, which gives a private description of the same
//     pipe/tty on which O_NONBLOCK is ours alone. Without /proc we fall
//     back to poll(POLLOUT, 0) before each write of at most PIPE_BUF bytes,
//     which a pipe accepts whole without blocking once poll said so.
//   - socket: send(MSG_DONTWAIT | MSG_NOSIGNAL), non-blocking per call.
//   - regular file: plain writes; they do not block on "full", and the
//     shared description keeps O_APPEND semantics for everyone.
// When stdout and stderr are the same file (2>&1, one terminal), both use
// one queue, so stdout and stderr lines interleave only at line boundaries
// there too.
//
// Back-pressure: when a queue grows beyond kQueueBound, the read watchers
// of every pipe feeding it stop, so the services block in write(2) rather
// than our memory growing; they restart when the queue is below half of
// that. A destination that fails (EPIPE: nobody reads our stdout any more)
// is given up: its output is dropped from then on, but the pipes are still
// read, so services never hang on a full pipe.
//
// SIGPIPE is ignored process-wide (init.cc prepare_process), so a write to
// a pipe nobody reads returns EPIPE here instead of killing the supervisor.
#include "output.h"

#include <ev.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <string_view>

#include "line_buffer.h"

namespace sv {

namespace {

constexpr std::size_t kReadSize = 64 * 1024;
// Queue size above which reading from the feeding pipes pauses. The queue
// may exceed it by what one read expands to (64 KiB of input plus a prefix
// per line), so the worst case per destination is about
// kQueueBound + kReadSize * (1 + prefix width); a few MiB at most.
constexpr std::size_t kQueueBound = 256 * 1024;
// The supervisor's own lines are not subject to back-pressure (they must not
// block the loop), so they get a separate hard cap for a destination that
// stalls for good; beyond it they are dropped.
constexpr std::size_t kOwnLineCap = 16 * kQueueBound;
// Queue storage: appended in chunks of this size, written with writev.
constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kBatch = 64 * 1024;
constexpr std::size_t kMaxIov = std::min<std::size_t>(IOV_MAX, 64);
// How long finish() may spend on one destination that will not accept
// bytes (a stalled reader of our stdout must not hang the supervisor).
constexpr std::chrono::milliseconds kFlushBudget{5000};
// How many reads finish() does per pipe before giving up on a pipe that a
// surviving process keeps writing to.
constexpr int kFinishReadsPerPipe = 64;

// Six ANSI foreground colours, as docker compose uses; red last since it
// reads as "error" to most people.
constexpr std::array<const char*, 6> kColours = {"\x1b[36m", "\x1b[33m", "\x1b[32m",
                                                 "\x1b[35m", "\x1b[34m", "\x1b[31m"};
constexpr const char* kReset = "\x1b[0m";

// https://no-color.org: set and not empty disables colour.
bool no_color_requested() {
    const char* v = std::getenv("NO_COLOR");
    return v != nullptr && v[0] != '\0';
}

// Display width of a name: UTF-8 code points (continuation bytes do not count).
std::size_t display_width(std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace

// A fixed-capacity byte buffer of the output queue. Not std::string: a
// prefixed line is three memcpy()s into it, without std::string's per-append
// checks, which showed up first in the profile of the prefix mode.
class Chunk {
  public:
    explicit Chunk(std::size_t capacity) : data_(new char[capacity]), capacity_(capacity) {}
    const char* data() const { return data_.get(); }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::size_t room() const { return capacity_ - size_; }
    // The caller checks room() first.
    void put(std::string_view a, std::string_view b, std::string_view c) {
        char* p = data_.get() + size_;
        std::memcpy(p, a.data(), a.size());
        std::memcpy(p + a.size(), b.data(), b.size());
        std::memcpy(p + a.size() + b.size(), c.data(), c.size());
        size_ += a.size() + b.size() + c.size();
    }

  private:
    std::unique_ptr<char[]> data_;
    std::size_t capacity_;
    std::size_t size_ = 0;
};

struct Output::Impl {
    struct Dest {
        enum class Mode {
            Private,  // our own O_NONBLOCK description of the pipe/tty
            Polled,   // the shared blocking fd; poll(POLLOUT, 0) before each small write
            Socket,   // send(MSG_DONTWAIT) on the shared socket
            Plain,    // regular file: plain writes
            Broken,   // failed or absent: output is dropped
        };

        Impl* impl = nullptr;
        int fd = -1;  // what we write to
        bool owns_fd = false;
        Mode mode = Mode::Broken;
        bool colour = false;
        bool paused = false;  // feeding pipes stopped for back-pressure
        bool fifo = false;    // a pipe: writes of at most PIPE_BUF are atomic
        bool shared = false;  // other writers (inherit services) share it
        std::deque<Chunk> chunks;
        std::size_t head = 0;   // bytes of chunks.front() already written
        std::size_t bytes = 0;  // queued, not yet written
        std::optional<std::chrono::steady_clock::time_point> flush_deadline;
        ev_io writable;

        enum class Flush { Done, Blocked, Failed };

        void open(int orig_fd, const struct stat& st);
        void append(std::string_view a, std::string_view b = {}, std::string_view c = {});
        Flush write_some();
        void consume(std::size_t n);
        void clear() {
            chunks.clear();
            head = 0;
            bytes = 0;
        }
    };

    struct Pipe {
        Impl* impl = nullptr;
        std::size_t index = 0;
        Dest* dest = nullptr;
        int fd = -1;
        LineBuffer lines;
        ev_io readable;
    };

    explicit Impl(struct ev_loop* l);
    ~Impl();

    static void on_pipe_readable(struct ev_loop*, ev_io* w, int) noexcept;
    static void on_dest_writable(struct ev_loop*, ev_io* w, int) noexcept;

    void read_pipe(Pipe& p);
    void drain_for_finish(Pipe& p);
    void close_pipe(Pipe& p);  // emits the partial line, closes the fd, erases p
    void emit(const Pipe& p, std::string_view line);
    const std::string& prefix(std::size_t index, bool colour);

    // Writes what it can without blocking; arms the write watcher when the
    // destination is full; pauses or resumes the feeding pipes.
    void pump(Dest& d);
    // Writes everything, waiting up to the destination's flush budget.
    void flush_blocking(Dest& d);
    void set_paused(Dest& d, bool paused);
    void give_up(Dest& d);

    struct ev_loop* loop;
    std::vector<std::string> names;
    std::vector<std::array<std::string, 2>> prefixes;  // per index: plain, coloured
    std::string fallback_prefix;                       // scratch for unnamed indexes
    std::size_t width = 0;
    std::array<std::unique_ptr<Dest>, 2> dests;  // owned: stdout, stderr (may be null)
    std::array<Dest*, 2> dest_for{};             // [0] stdout, [1] stderr (maybe shared)
    std::vector<std::unique_ptr<Pipe>> pipes;
    std::unique_ptr<char[]> buf{new char[kReadSize]};
    bool finished = false;
};

// --- destinations ---

void Output::Impl::Dest::open(int orig_fd, const struct stat& st) {
    colour = ::isatty(orig_fd) == 1 && !no_color_requested();
    fifo = S_ISFIFO(st.st_mode);
    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
        char path[32];
        std::snprintf(path, sizeof path, "/proc/self/fd/%d", orig_fd);
        // O_NOCTTY: as PID 1 (a session leader without a terminal), opening
        // a tty would otherwise make it our controlling terminal.
        int own = ::open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (own >= 0) {
            fd = own;
            owns_fd = true;
            mode = Mode::Private;
            return;
        }
        fd = orig_fd;
        mode = Mode::Polled;
        return;
    }
    fd = orig_fd;
    mode = S_ISSOCK(st.st_mode) ? Mode::Socket : Mode::Plain;
}

void Output::Impl::Dest::append(std::string_view a, std::string_view b, std::string_view c) {
    const std::size_t n = a.size() + b.size() + c.size();
    if (chunks.empty() || chunks.back().room() < n) chunks.emplace_back(std::max(kChunk, n));
    chunks.back().put(a, b, c);
    bytes += n;
}

void Output::Impl::Dest::consume(std::size_t n) {
    bytes -= n;
    while (n > 0) {
        const std::size_t rest = chunks.front().size() - head;
        if (n < rest) {
            head += n;
            return;
        }
        n -= rest;
        chunks.pop_front();
        head = 0;
    }
    if (chunks.size() == 1 && head == chunks.front().size()) {
        chunks.clear();
        head = 0;
    }
}

Output::Impl::Dest::Flush Output::Impl::Dest::write_some() {
    while (bytes > 0) {
        if (mode == Mode::Broken) return Flush::Failed;
        std::size_t limit = kBatch;
        if (mode == Mode::Polled) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            int r = ::poll(&pfd, 1, 0);
            if (r < 0 && errno == EINTR) continue;
            if (r == 0) return Flush::Blocked;
            if (r < 0 || (pfd.revents & (POLLERR | POLLNVAL))) return Flush::Failed;
            if (!(pfd.revents & POLLOUT)) return Flush::Failed;  // POLLHUP: reader gone
            limit = PIPE_BUF;  // accepted whole by a writable pipe, so no blocking
        }
        const bool atomic_lines = shared && fifo;
        if (atomic_lines) limit = PIPE_BUF;
        std::array<struct iovec, kMaxIov> iov;
        std::size_t niov = 0;
        std::size_t total = 0;
        std::size_t offset = head;
        for (const Chunk& chunk : chunks) {
            if (niov == iov.size() || total >= limit) break;
            std::size_t len = std::min(chunk.size() - offset, limit - total);
            if (len > 0) {
                iov[niov].iov_base = const_cast<char*>(chunk.data() + offset);
                iov[niov].iov_len = len;
                ++niov;
                total += len;
            }
            offset = 0;
        }
        if (atomic_lines && total == limit) {
            // End the piece after its last newline, so it holds whole lines
            // only (a line longer than PIPE_BUF cannot be atomic anyway).
            std::size_t keep = total;
            for (std::size_t i = niov; i-- > 0;) {
                const char* base = static_cast<const char*>(iov[i].iov_base);
                const void* nl = ::memrchr(base, '\n', iov[i].iov_len);
                if (nl) {
                    const std::size_t upto =
                        static_cast<std::size_t>(static_cast<const char*>(nl) - base + 1);
                    keep -= iov[i].iov_len - upto;
                    iov[i].iov_len = upto;
                    niov = i + 1;
                    break;
                }
                keep -= iov[i].iov_len;
            }
            if (keep == 0) {
                keep = total;  // no newline at all: a long line goes out as it is
            } else {
                total = keep;
            }
        }
        ssize_t n;
        if (mode == Mode::Socket) {
            struct msghdr msg = {};
            msg.msg_iov = iov.data();
            msg.msg_iovlen = niov;
            n = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else {
            n = ::writev(fd, iov.data(), static_cast<int>(niov));
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return Flush::Blocked;
            return Flush::Failed;
        }
        if (n == 0) return Flush::Blocked;  // cannot happen for total > 0; never spin
        consume(static_cast<std::size_t>(n));
    }
    return Flush::Done;
}

// --- callbacks: no exception may escape into libev ---

void Output::Impl::on_pipe_readable(struct ev_loop*, ev_io* w, int) noexcept {
    auto* p = static_cast<Pipe*>(w->data);
    try {
        p->impl->read_pipe(*p);
    } catch (...) {
        // bad_alloc while queueing: the line is lost, the loop survives.
    }
}

void Output::Impl::on_dest_writable(struct ev_loop*, ev_io* w, int) noexcept {
    auto* d = static_cast<Dest*>(w->data);
    try {
        d->impl->pump(*d);
    } catch (...) {
    }
}

// --- Impl ---

Output::Impl::Impl(struct ev_loop* l) : loop(l) {
    struct stat st[2];
    bool ok[2];
    for (int i = 0; i < 2; ++i) ok[i] = ::fstat(i + 1, &st[i]) == 0;
    for (int i = 0; i < 2; ++i) {
        if (i == 1 && ok[0] && ok[1] && st[0].st_dev == st[1].st_dev &&
            st[0].st_ino == st[1].st_ino && st[0].st_rdev == st[1].st_rdev) {
            dest_for[1] = dest_for[0];  // 2>&1, or one terminal: one queue
            break;
        }
        dests[i] = std::make_unique<Dest>();
        Dest& d = *dests[i];
        d.impl = this;
        if (ok[i]) d.open(i + 1, st[i]);
        ev_io_init(&d.writable, on_dest_writable, d.fd, EV_WRITE);
        d.writable.data = &d;
        dest_for[i] = &d;
    }
}

Output::Impl::~Impl() {
    for (auto& p : pipes) {
        ev_io_stop(loop, &p->readable);
        ::close(p->fd);
    }
    pipes.clear();
    for (auto& d : dests) {
        if (!d) continue;
        ev_io_stop(loop, &d->writable);
        // Normally empty after finish(); otherwise one bounded last attempt.
        flush_blocking(*d);
        if (d->owns_fd) ::close(d->fd);
    }
}

const std::string& Output::Impl::prefix(std::size_t index, bool colour) {
    if (index < prefixes.size()) return prefixes[index][colour ? 1 : 0];
    // A service the names were not given for: its index stands in for the name.
    fallback_prefix = std::to_string(index) + " | ";
    return fallback_prefix;
}

void Output::Impl::emit(const Pipe& p, std::string_view line) {
    Dest& d = *p.dest;
    if (d.mode == Dest::Mode::Broken) return;
    d.append(prefix(p.index, d.colour), line, "\n");
}

void Output::Impl::read_pipe(Pipe& p) {
    ssize_t n = ::read(p.fd, buf.get(), kReadSize);
    if (n > 0) {
        Dest& d = *p.dest;
        if (d.mode != Dest::Mode::Broken) {
            // The hot path of the prefix mode: one prefix lookup per read,
            // then three memcpy()s per line.
            const std::string_view pre = prefix(p.index, d.colour);
            p.lines.feed(std::string_view(buf.get(), static_cast<std::size_t>(n)),
                         [&](std::string_view line) { d.append(pre, line, "\n"); });
        }
        pump(d);
        return;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
    // EOF (every writer closed its end), or a read error, which we treat as
    // EOF: there is nothing else we could do with the pipe.
    Dest* d = p.dest;
    close_pipe(p);
    pump(*d);
}

void Output::Impl::close_pipe(Pipe& p) {
    p.lines.finish([&](std::string_view line) { emit(p, line); });
    ev_io_stop(loop, &p.readable);
    ::close(p.fd);
    auto it =
        std::find_if(pipes.begin(), pipes.end(), [&](const auto& q) { return q.get() == &p; });
    if (it != pipes.end()) pipes.erase(it);  // p is gone from here on
}

void Output::Impl::pump(Dest& d) {
    if (d.mode == Dest::Mode::Broken) return;
    switch (d.write_some()) {
        case Dest::Flush::Done:
            ev_io_stop(loop, &d.writable);
            break;
        case Dest::Flush::Blocked:
            if (!ev_is_active(&d.writable)) ev_io_start(loop, &d.writable);
            break;
        case Dest::Flush::Failed:
            give_up(d);
            return;
    }
    if (!d.paused && d.bytes > kQueueBound) {
        set_paused(d, true);
    } else if (d.paused && d.bytes < kQueueBound / 2) {
        set_paused(d, false);
    }
}

void Output::Impl::set_paused(Dest& d, bool paused) {
    d.paused = paused;
    for (auto& p : pipes) {
        if (p->dest != &d) continue;
        if (paused) {
            ev_io_stop(loop, &p->readable);  // also clears a pending event
        } else {
            ev_io_start(loop, &p->readable);
        }
    }
}

void Output::Impl::give_up(Dest& d) {
    // Nobody takes our output any more (EPIPE, EIO on a hung-up terminal…).
    // Drop it silently, but keep reading the pipes so services never block.
    ev_io_stop(loop, &d.writable);
    if (d.owns_fd) ::close(d.fd);
    d.owns_fd = false;
    d.fd = -1;
    d.mode = Dest::Mode::Broken;
    d.clear();
    if (d.paused) set_paused(d, false);
}

void Output::Impl::flush_blocking(Dest& d) {
    using Clock = std::chrono::steady_clock;
    while (d.bytes > 0 && d.mode != Dest::Mode::Broken) {
        Dest::Flush r = d.write_some();
        if (r == Dest::Flush::Done) break;
        if (r == Dest::Flush::Failed) {
            give_up(d);
            break;
        }
        // The budget is per destination over the whole shutdown, not per call.
        if (!d.flush_deadline) d.flush_deadline = Clock::now() + kFlushBudget;
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(*d.flush_deadline - Clock::now());
        if (left.count() <= 0) {
            give_up(d);  // the reader stalled for good
            break;
        }
        struct pollfd pfd = {d.fd, POLLOUT, 0};
        (void)::poll(&pfd, 1, static_cast<int>(left.count()));
    }
    if (d.bytes == 0) ev_io_stop(loop, &d.writable);
}

void Output::Impl::drain_for_finish(Pipe& p) {
    for (int i = 0; i < kFinishReadsPerPipe; ++i) {
        ssize_t n = ::read(p.fd, buf.get(), kReadSize);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // EOF, EAGAIN (a survivor holds it open) or an error
        p.lines.feed(std::string_view(buf.get(), static_cast<std::size_t>(n)),
                     [&](std::string_view line) { emit(p, line); });
        if (p.dest->bytes > kQueueBound) flush_blocking(*p.dest);
    }
    close_pipe(p);
}

// --- Output ---

Output::Output(struct ev_loop* loop) : impl_(std::make_unique<Impl>(loop)) {}

Output::~Output() = default;

void Output::set_service_names(const std::vector<std::string>& names) {
    Impl& m = *impl_;
    m.names = names;
    m.width = 0;
    for (const auto& n : names) m.width = std::max(m.width, display_width(n));
    m.prefixes.clear();
    m.prefixes.reserve(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string pad(m.width - display_width(names[i]), ' ');
        std::string plain = names[i] + pad + " | ";
        std::string coloured = kColours[i % kColours.size()] + names[i] + kReset + pad + " | ";
        m.prefixes.push_back({std::move(plain), std::move(coloured)});
    }
}

void Output::attach(std::size_t index, int stdout_fd, int stderr_fd) {
    Impl& m = *impl_;
    const int fds[2] = {stdout_fd, stderr_fd};
    for (int i = 0; i < 2; ++i) {
        int fd = fds[i];
        if (fd < 0) continue;
        int flags = ::fcntl(fd, F_GETFL);
        // The read end is ours alone (the child holds the write end), so
        // making it non-blocking affects nobody else.
        if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
            ::close(fd);
            continue;
        }
        auto p = std::make_unique<Impl::Pipe>();
        p->impl = &m;
        p->index = index;
        p->dest = m.dest_for[i];
        p->fd = fd;
        ev_io_init(&p->readable, Impl::on_pipe_readable, fd, EV_READ);
        p->readable.data = p.get();
        if (!p->dest->paused) ev_io_start(m.loop, &p->readable);
        m.pipes.push_back(std::move(p));
    }
}

void Output::set_shared_destinations(bool shared) {
    for (auto& d : impl_->dests)
        if (d) d->shared = shared;
}

void Output::read_available(std::size_t index) {
    Impl& m = *impl_;
    std::vector<Impl::Pipe*> mine;
    for (auto& p : m.pipes)
        if (p->index == index && !p->dest->paused) mine.push_back(p.get());
    // A bounded number of reads: a grandchild that keeps writing must not
    // hold up the exit report; the loop reads the rest as usual.
    for (Impl::Pipe* p : mine) {
        for (int i = 0; i < 4; ++i) {
            const std::size_t before = m.pipes.size();
            const ssize_t queued = static_cast<ssize_t>(p->dest->bytes);
            m.read_pipe(*p);
            if (m.pipes.size() != before) break;  // EOF: p was closed and freed
            if (static_cast<ssize_t>(p->dest->bytes) == queued || p->dest->paused) break;
        }
    }
}

void Output::own_line(std::string line) {
    Impl& m = *impl_;
    Impl::Dest& d = *m.dest_for[1];
    if (d.mode == Impl::Dest::Mode::Broken || d.bytes > kOwnLineCap) return;
    if (line.empty() || line.back() != '\n') line += '\n';
    d.append(line);
    if (m.finished) {
        m.flush_blocking(d);  // the loop is over: nobody would write it later
    } else {
        m.pump(d);
    }
}

bool Output::all_closed() const {
    return impl_->pipes.empty();
}

void Output::finish() {
    Impl& m = *impl_;
    m.finished = true;
    while (!m.pipes.empty()) m.drain_for_finish(*m.pipes.front());
    for (auto& d : m.dests) {
        if (!d) continue;
        d->paused = false;
        m.flush_blocking(*d);
    }
}

}  // namespace sv
