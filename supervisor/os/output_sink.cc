// One output destination: see output_sink.h.
#include "output_sink.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "oops.h"

namespace sv {

namespace {

// Queue storage: appended in chunks of this size, written with writev.
constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kBatch = 64 * 1024;
constexpr std::size_t kMaxIov = std::min<std::size_t>(IOV_MAX, 64);
// How long flush_blocking() may spend, in all, on one destination that will
// not accept bytes.
constexpr std::chrono::milliseconds kFlushBudget{5000};
// Bytes written to a polled terminal after one POLLOUT: a tty reports
// POLLOUT while fewer than 256 characters wait in its output buffer, and
// its drivers have far more room than that, so such a write does not block.
constexpr std::size_t kConsoleChunk = 128;

// A private description of a terminal without /proc (a VM's init before its
// first mount): a node of our own for the same device, opened and unlinked
// at once. Needs CAP_MKNOD, which an init has. -1 when it cannot be done.
int reopen_device_node(const struct stat& st) {
    static unsigned counter = 0;
    for (const char* dir : {"/run", "/tmp", "/dev", "/"}) {
        char path[64];
        std::snprintf(path, sizeof path, "%s/.supervisor-tty-%d-%u",
                      std::strcmp(dir, "/") ? dir : "", static_cast<int>(::getpid()), counter++);
        if (::mknod(path, S_IFCHR | 0600, st.st_rdev) != 0) continue;
        const int fd = ::open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        ::unlink(path);
        if (fd >= 0) return fd;
    }
    return -1;
}

// https://no-color.org: set and not empty disables colour.
bool no_color_requested() {
    const char* v = std::getenv("NO_COLOR");
    return v != nullptr && v[0] != '\0';
}

}  // namespace

Chunk::Chunk(std::size_t capacity) : data_(new char[capacity]), capacity_(capacity) {}

bool same_file(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_rdev == b.st_rdev;
}

OutputSink::OutputSink(struct ev_loop* loop, int orig_fd, const struct stat& st, bool ok,
                       PauseFn on_pause)
    : loop_(loop), on_pause_(std::move(on_pause)) {
    if (ok) {
        colour_ = ::isatty(orig_fd) == 1 && !no_color_requested();
        fifo_ = S_ISFIFO(st.st_mode);
        if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
            char path[32];
            std::snprintf(path, sizeof path, "/proc/self/fd/%d", orig_fd);
            // O_NOCTTY: as PID 1 (a session leader without a terminal), opening
            // a tty would otherwise make it our controlling terminal.
            int own = ::open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
            if (own >= 0) {
                fd_ = own;
                owns_fd_ = true;
                mode_ = Mode::Private;
            } else if (S_ISCHR(st.st_mode) && (own = reopen_device_node(st)) >= 0) {
                // The console of an init without /proc: never stall the
                // services on it (see the header).
                fd_ = own;
                owns_fd_ = true;
                mode_ = Mode::Private;
                drops_ = true;
            } else {
                fd_ = orig_fd;
                mode_ = Mode::Polled;
                drops_ = S_ISCHR(st.st_mode);
            }
        } else {
            fd_ = orig_fd;
            mode_ = S_ISSOCK(st.st_mode) ? Mode::Socket : Mode::Plain;
        }
    }
    ev_io_init(&writable_, on_writable, fd_, EV_WRITE);
    writable_.data = this;
}

OutputSink::~OutputSink() {
    ev_io_stop(loop_, &writable_);
    // Normally empty after the end of the run; otherwise one bounded last attempt.
    flush_blocking();
    if (owns_fd_) ::close(fd_);
}

void OutputSink::append_slow(std::string_view a, std::string_view b, std::string_view c) {
    const std::size_t n = a.size() + b.size() + c.size();
    if (drops_ && bytes_ > kQueueBound) {
        ++dropped_;  // the console cannot keep up: never stall the services
        return;
    }
    if (chunks_.empty() || chunks_.back().room() < n) chunks_.emplace_back(std::max(kChunk, n));
    chunks_.back().put(a, b, c);
    bytes_ += n;
}

void OutputSink::consume(std::size_t n) {
    bytes_ -= n;
    while (n > 0) {
        const std::size_t rest = chunks_.front().size() - head_;
        if (n < rest) {
            head_ += n;
            return;
        }
        n -= rest;
        chunks_.pop_front();
        head_ = 0;
    }
    if (chunks_.size() == 1 && head_ == chunks_.front().size()) {
        chunks_.clear();
        head_ = 0;
    }
}

OutputSink::Flush OutputSink::write_some() {
    while (bytes_ > 0) {
        if (mode_ == Mode::Broken) return Flush::Failed;
        std::size_t limit = kBatch;
        // A terminal without /proc that no inherit service writes to:
        // O_NONBLOCK on the shared description, for the duration of one
        // write only (left set, it would break the shell we return to).
        const bool toggled = mode_ == Mode::Polled && !fifo_ && !shared_;
        if (mode_ == Mode::Polled && !toggled) {
            struct pollfd pfd = {fd_, POLLOUT, 0};
            const int r = ::poll(&pfd, 1, 0);
            if (r < 0 && errno == EINTR) continue;
            if (r == 0) return Flush::Blocked;
            if (r < 0 || (pfd.revents & (POLLERR | POLLNVAL))) return Flush::Failed;
            if (!(pfd.revents & POLLOUT)) return Flush::Failed;  // POLLHUP: reader gone
            // Accepted whole by a writable pipe, or by a tty, without blocking.
            limit = fifo_ ? PIPE_BUF : kConsoleChunk;
        }
        const bool atomic_lines = shared_ && fifo_;
        if (atomic_lines) limit = PIPE_BUF;
        std::array<struct iovec, kMaxIov> iov;
        std::size_t niov = 0;
        std::size_t total = 0;
        std::size_t offset = head_;
        for (const Chunk& chunk : chunks_) {
            if (niov == iov.size() || total >= limit) break;
            const std::size_t len = std::min(chunk.size() - offset, limit - total);
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
        if (mode_ == Mode::Socket) {
            struct msghdr msg = {};
            msg.msg_iov = iov.data();
            msg.msg_iovlen = niov;
            n = ::sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else if (toggled) {
            const int flags = ::fcntl(fd_, F_GETFL);
            if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK) < 0) return Flush::Failed;
            n = ::writev(fd_, iov.data(), static_cast<int>(niov));
            const int saved = errno;
            (void)::fcntl(fd_, F_SETFL, flags);
            errno = saved;
        } else {
            n = ::writev(fd_, iov.data(), static_cast<int>(niov));
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

void OutputSink::on_writable(struct ev_loop*, ev_io* w, int) noexcept {
    try {
        static_cast<OutputSink*>(w->data)->pump();
    } catch (...) {
        oops("writing output");
    }
}

void OutputSink::pump() {
    if (mode_ == Mode::Broken) return;
    switch (write_some()) {
        case Flush::Done:
            ev_io_stop(loop_, &writable_);
            break;
        case Flush::Blocked:
            if (!ev_is_active(&writable_)) ev_io_start(loop_, &writable_);
            break;
        case Flush::Failed:
            give_up();
            return;
    }
    if (drops_) {
        if (dropped_ > 0 && bytes_ < kQueueBound / 2) {
            const std::string note = "supervisor: warning: " + std::to_string(dropped_) +
                                     " lines of output dropped: the console could not keep up\n";
            dropped_ = 0;
            append(note);
            pump();
        }
        return;
    }
    if (!paused_ && bytes_ > kQueueBound) {
        set_paused(true);
    } else if (paused_ && bytes_ < kQueueBound / 2) {
        set_paused(false);
    }
}

void OutputSink::set_paused(bool paused) {
    paused_ = paused;
    if (on_pause_) on_pause_(paused);
}

void OutputSink::give_up() {
    // Nobody takes our output any more (EPIPE, EIO on a hung-up terminal…).
    // Drop it silently, but keep reading the pipes so services never block.
    ev_io_stop(loop_, &writable_);
    if (owns_fd_) ::close(fd_);
    owns_fd_ = false;
    fd_ = -1;
    mode_ = Mode::Broken;
    chunks_.clear();
    head_ = 0;
    bytes_ = 0;
    if (paused_) set_paused(false);
}

void OutputSink::flush_blocking() {
    while (bytes_ > 0 && mode_ != Mode::Broken) {
        const Flush r = write_some();
        if (r == Flush::Done) break;
        if (r == Flush::Failed) {
            give_up();
            break;
        }
        // The budget is per destination over the whole shutdown, not per call.
        if (!flush_deadline_) flush_deadline_ = Clock::now() + kFlushBudget;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(*flush_deadline_ - Clock::now());
        if (left.count() <= 0) {
            give_up();  // the reader stalled for good
            break;
        }
        struct pollfd pfd = {fd_, POLLOUT, 0};
        (void)::poll(&pfd, 1, static_cast<int>(left.count()));
    }
    if (bytes_ == 0) ev_io_stop(loop_, &writable_);
}

}  // namespace sv
