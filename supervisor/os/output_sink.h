// One destination of the supervisor's output (its stdout or its stderr): a
// queue of bytes written out without ever blocking the loop.
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
//
// Back-pressure: when the queue grows beyond kQueueBound the sink says so
// (on_pause(true)), and Output stops reading the pipes that feed it, so the
// services block in write(2) rather than our memory growing; below half of
// that it says on_pause(false). A destination that fails (EPIPE: nobody
// reads our stdout any more) is given up: its output is dropped from then
// on, but the pipes are still read, so services never hang on a full pipe.
//
// The one exception is a terminal or console without /proc (a VM's init
// before its first mount). The sink then makes a device node of its own for
// it (mknod, as root) to get a private non-blocking description; where that
// cannot be done (a pseudo-terminal), it sets O_NONBLOCK on the shared
// description for the duration of each write, unless inherit services
// write there too, in which case it writes at most kConsoleChunk bytes per
// POLLOUT. Either way, rather than throttle every service to the speed of a
// serial console, it drops whole lines beyond the bound and says how many
// once the console has caught up.
#pragma once

#include <ev.h>
#include <sys/stat.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace sv {

// Queue size above which reading from the feeding pipes pauses. The queue
// may exceed it by what one read expands to (64 KiB of input plus a prefix
// per line), so the worst case per destination is a few MiB at most.
constexpr std::size_t kQueueBound = 256 * 1024;

// A fixed-capacity byte buffer of the queue. Not std::string: a prefixed
// line is three memcpy()s into it, without std::string's per-append checks,
// which showed up first in the profile of the prefix mode.
class Chunk {
  public:
    explicit Chunk(std::size_t capacity);
    const char* data() const { return data_.get(); }
    std::size_t size() const { return size_; }
    std::size_t room() const { return capacity_ - size_; }
    // The caller checks room() first. Inline: once per line of output.
    void put(std::string_view a, std::string_view b, std::string_view c) {
        char* p = data_.get() + size_;
        if (!a.empty()) std::memcpy(p, a.data(), a.size());
        if (!b.empty()) std::memcpy(p + a.size(), b.data(), b.size());
        if (c.size() == 1)
            p[a.size() + b.size()] = c[0];  // the usual "\n": no call for one byte
        else if (!c.empty())
            std::memcpy(p + a.size() + b.size(), c.data(), c.size());
        size_ += a.size() + b.size() + c.size();
    }

  private:
    std::unique_ptr<char[]> data_;
    std::size_t capacity_;
    std::size_t size_ = 0;
};

class OutputSink {
  public:
    using PauseFn = std::function<void(bool paused)>;

    // `fd` is 1 or 2, `st` its fstat (ok false: it is closed).
    OutputSink(struct ev_loop* loop, int fd, const struct stat& st, bool ok, PauseFn on_pause);
    ~OutputSink();
    OutputSink(const OutputSink&) = delete;
    OutputSink& operator=(const OutputSink&) = delete;

    // Other writers (inherit services) share this destination: write to a
    // pipe in pieces of at most PIPE_BUF bytes that end at a line boundary,
    // so their small writes can land only between our lines.
    void set_shared(bool shared) { shared_ = shared; }

    bool broken() const { return mode_ == Mode::Broken; }
    // Lines dropped because a polled console could not keep up (not yet said).
    std::size_t dropped() const { return dropped_; }
    bool colour() const { return colour_; }
    bool paused() const { return paused_; }
    std::size_t queued() const { return bytes_; }

    // Queues a + b + c (one line, usually: prefix, text, newline). The
    // usual case, room in the last chunk, inline: once per line of output.
    void append(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
        const std::size_t n = a.size() + b.size() + c.size();
        if (!drops_ && !chunks_.empty() && chunks_.back().room() >= n) {
            chunks_.back().put(a, b, c);
            bytes_ += n;
        } else {
            append_slow(a, b, c);
        }
    }

    // Writes what it can without blocking; arms the write watcher when the
    // destination is full; pauses or resumes the feeding pipes.
    void pump();

    // Writes everything, waiting up to a total budget of 5 s per sink (a
    // stalled reader of our stdout must not hang the supervisor's exit).
    void flush_blocking();

    // Lifts back-pressure for good (the end of the run).
    void unpause() { paused_ = false; }

  private:
    enum class Mode {
        Private,  // our own O_NONBLOCK description of the pipe/tty
        Polled,   // the shared blocking fd; poll(POLLOUT, 0) before each small write
        Socket,   // send(MSG_DONTWAIT) on the shared socket
        Plain,    // regular file: plain writes
        Broken,   // failed or absent: output is dropped
    };
    enum class Flush { Done, Blocked, Failed };

    void append_slow(std::string_view a, std::string_view b, std::string_view c);
    static void on_writable(struct ev_loop*, ev_io* w, int) noexcept;
    Flush write_some();
    void consume(std::size_t n);
    void set_paused(bool paused);
    void give_up();

    struct ev_loop* loop_;
    PauseFn on_pause_;
    int fd_ = -1;  // what we write to
    bool owns_fd_ = false;
    Mode mode_ = Mode::Broken;
    bool colour_ = false;
    bool paused_ = false;
    bool fifo_ = false;   // a pipe: writes of at most PIPE_BUF are atomic
    bool drops_ = false;  // a polled console: drop lines instead of back-pressure
    std::size_t dropped_ = 0;
    bool shared_ = false;  // other writers (inherit services) share it
    std::deque<Chunk> chunks_;
    std::size_t head_ = 0;   // bytes of chunks_.front() already written
    std::size_t bytes_ = 0;  // queued, not yet written
    std::optional<std::chrono::steady_clock::time_point> flush_deadline_;
    ev_io writable_;
};

// Are these two fstat results the same file (2>&1, one terminal)?
bool same_file(const struct stat& a, const struct stat& b);

}  // namespace sv
