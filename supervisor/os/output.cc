// Service output on the libev loop (see output.h and docs/logging.md).
//
// The read ends of the services' pipes: each readable pipe is read (one
// 64 KiB read per wake-up, so one chatty service cannot starve the others),
// cut into lines, and every line is queued as "NAME | line\n" on the sink
// for the supervisor's stdout or stderr (output_sink.h). When stdout and
// stderr are the same file (2>&1, one terminal), both use one sink, so
// stdout and stderr lines interleave only at line boundaries there too.
//
// SIGPIPE is ignored process-wide (init.cc prepare_process), so a write to
// a pipe nobody reads returns EPIPE in the sink instead of killing the
// supervisor.
#include "output.h"

#include <ev.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>
#include <unordered_map>

#include "line_buffer.h"
#include "log_ring.h"
#include "oops.h"
#include "output_sink.h"

namespace sv {

namespace {

constexpr std::size_t kReadSize = 64 * 1024;
// How many reads finish() does per pipe before giving up on a pipe that a
// surviving process keeps writing to.
constexpr int kFinishReadsPerPipe = 64;

// Six ANSI foreground colours, as docker compose uses; red last since it
// reads as "error" to most people.
constexpr std::array<const char*, 6> kColours = {"\x1b[36m", "\x1b[33m", "\x1b[32m",
                                                 "\x1b[35m", "\x1b[34m", "\x1b[31m"};
constexpr const char* kReset = "\x1b[0m";

// Display width of a name: UTF-8 code points (continuation bytes do not count).
std::size_t display_width(std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace

struct Output::Impl {
    struct Pipe {
        Impl* impl = nullptr;
        std::size_t index = 0;
        OutputSink* sink = nullptr;
        int fd = -1;
        std::size_t slot = 0;  // its place in `pipes`
        int write_fd = -1;     // our copy of the write end, until the leader is reaped
        LineBuffer lines;
        ev_io readable;
    };

    explicit Impl(struct ev_loop* l);

    static void on_pipe_readable(struct ev_loop*, ev_io* w, int) noexcept;

    void read_pipe(Pipe& p);
    // Writes what `sink` holds now, unless own lines are held (a batch of
    // events: release_own_lines() writes it all at once) and it holds less
    // than one batch's worth.
    void pump(OutputSink& sink);
    void drain_for_finish(Pipe& p);
    void close_pipe(Pipe& p);  // emits the partial line, closes the fd, erases p
    void emit(const Pipe& p, std::string_view line);
    const std::string& prefix(std::size_t index, bool colour);
    // Back-pressure from `sink`: stop or restart the pipes that feed it.
    void set_paused(const OutputSink* sink, bool paused);

    struct ev_loop* loop;
    std::vector<std::array<std::string, 2>> prefixes;  // per index: plain, coloured
    std::string fallback_prefix;                       // scratch for unnamed indexes
    std::array<std::unique_ptr<OutputSink>, 2> sinks;  // owned: stdout, stderr (may be null)
    std::array<OutputSink*, 2> sink_for{};             // [0] stdout, [1] stderr (maybe shared)
    std::vector<std::unique_ptr<Pipe>> pipes;
    // The pipes of each service index: an exit reads its service's pipes
    // without a walk over everybody's.
    std::unordered_map<std::size_t, std::vector<Pipe*>> by_index;
    std::unique_ptr<char[]> buf{new char[kReadSize]};
    bool finished = false;
    int held = 0;  // hold_own_lines() depth
    // Pipes at their end, closed when a batch of events is over: after the
    // core has acted on it (the next kill of a chain sent) and after the
    // lines are written. A pipe's close frees its inode, dentry and epoll
    // entry, about 20 % of a graceful stop's CPU; it need not come first.
    std::vector<int> ended;
    // Our copies of write ends, as many as expect_pipes() allows; beyond
    // them, a service's pipes wake us at its exit.
    std::size_t write_ends = 0;
    std::size_t write_ends_budget = 0;
    std::size_t open_files_limit = 0;
    void drop_write_end(Pipe& p);
    LogStore* store = nullptr;
    std::function<void()> on_lines;
};

Output::Impl::Impl(struct ev_loop* l) : loop(l) {
    struct rlimit rl;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0)
        open_files_limit = rl.rlim_cur == RLIM_INFINITY ? std::size_t(1) << 30 : rl.rlim_cur;
    struct stat st[2];
    bool ok[2];
    for (int i = 0; i < 2; ++i) ok[i] = ::fstat(i + 1, &st[i]) == 0;
    for (int i = 0; i < 2; ++i) {
        if (i == 1 && ok[0] && ok[1] && same_file(st[0], st[1])) {
            sink_for[1] = sink_for[0];  // 2>&1, or one terminal: one queue
            break;
        }
        sinks[i] = std::make_unique<OutputSink>(loop, i + 1, st[i], ok[i], [this, i](bool paused) {
            set_paused(sinks[static_cast<std::size_t>(i)].get(), paused);
        });
        sink_for[i] = sinks[i].get();
    }
}

void Output::Impl::on_pipe_readable(struct ev_loop*, ev_io* w, int) noexcept {
    auto* p = static_cast<Pipe*>(w->data);
    try {
        p->impl->read_pipe(*p);
    } catch (...) {
        oops("reading service output");  // what was read is lost; the loop goes on
    }
}

const std::string& Output::Impl::prefix(std::size_t index, bool colour) {
    if (index < prefixes.size()) return prefixes[index][colour ? 1 : 0];
    // A service the names were not given for: its index stands in for the name.
    fallback_prefix = std::to_string(index) + " | ";
    return fallback_prefix;
}

void Output::Impl::emit(const Pipe& p, std::string_view line) {
    if (store) store->append(p.index, line);
    OutputSink& sink = *p.sink;
    if (sink.broken()) return;
    sink.append(prefix(p.index, sink.colour()), line, "\n");
}

void Output::Impl::read_pipe(Pipe& p) {
    const ssize_t n = ::read(p.fd, buf.get(), kReadSize);
    if (n > 0) {
        OutputSink& sink = *p.sink;
        if (!sink.broken()) {
            // The hot path of the prefix mode: one prefix lookup per read,
            // then three memcpy()s per line.
            const std::string_view pre = prefix(p.index, sink.colour());
            if (store) {
                LogRing& ring = store->ring_for(p.index);
                p.lines.feed(std::string_view(buf.get(), static_cast<std::size_t>(n)),
                             [&](std::string_view line) {
                                 sink.append(pre, line, "\n");
                                 store->append(ring, line);
                             });
            } else {
                p.lines.feed(std::string_view(buf.get(), static_cast<std::size_t>(n)),
                             [&](std::string_view line) { sink.append(pre, line, "\n"); });
            }
        }
        pump(sink);
        if (on_lines) on_lines();
        return;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
    // EOF (every writer closed its end), or a read error, which we treat as
    // EOF: there is nothing else we could do with the pipe.
    OutputSink* sink = p.sink;
    close_pipe(p);
    pump(*sink);
    if (on_lines) on_lines();
}

void Output::Impl::pump(OutputSink& sink) {
    // Without this, a batch of 500 exits was still 500 writes: reading each
    // service's last words (and its pipes' EOF) wrote out the sink, own
    // lines queued so far included.
    if (held > 0 && sink.queued() < kQueueBound) return;
    sink.pump();
}

void Output::Impl::drop_write_end(Pipe& p) {
    if (p.write_fd < 0) return;
    ::close(p.write_fd);
    p.write_fd = -1;
    --write_ends;
}

void Output::Impl::close_pipe(Pipe& p) {
    drop_write_end(p);
    p.lines.finish([&](std::string_view line) { emit(p, line); });
    ev_io_stop(loop, &p.readable);
    bool later = held > 0;
    if (later) {
        try {
            ended.push_back(p.fd);
        } catch (...) {
            later = false;  // no memory to remember it: close it now
        }
    }
    if (!later) ::close(p.fd);
    auto mine = by_index.find(p.index);
    if (mine != by_index.end()) {
        auto& v = mine->second;
        v.erase(std::remove(v.begin(), v.end(), &p), v.end());
        if (v.empty()) by_index.erase(mine);
    }
    // Swap with the last and pop: O(1), and the order of `pipes` means nothing.
    const std::size_t slot = p.slot;
    if (slot < pipes.size() && pipes[slot].get() == &p) {
        if (slot + 1 != pipes.size()) {
            pipes[slot] = std::move(pipes.back());
            pipes[slot]->slot = slot;
        }
        pipes.pop_back();  // p is gone from here on
    }
}

void Output::Impl::set_paused(const OutputSink* sink, bool paused) {
    for (auto& p : pipes) {
        if (p->sink != sink) continue;
        if (paused) {
            ev_io_stop(loop, &p->readable);  // also clears a pending event
        } else {
            ev_io_start(loop, &p->readable);
        }
    }
}

void Output::Impl::drain_for_finish(Pipe& p) {
    drop_write_end(p);
    for (int i = 0; i < kFinishReadsPerPipe; ++i) {
        const ssize_t n = ::read(p.fd, buf.get(), kReadSize);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // EOF, EAGAIN (a survivor holds it open) or an error
        p.lines.feed(std::string_view(buf.get(), static_cast<std::size_t>(n)),
                     [&](std::string_view line) { emit(p, line); });
        if (p.sink->queued() > kQueueBound) p.sink->flush_blocking();
    }
    close_pipe(p);
}

// --- Output ---

Output::Output(struct ev_loop* loop) : impl_(std::make_unique<Impl>(loop)) {}

Output::~Output() {
    Impl& m = *impl_;
    for (auto& p : m.pipes) {
        ev_io_stop(m.loop, &p->readable);
        ::close(p->fd);
        if (p->write_fd >= 0) ::close(p->write_fd);
    }
    m.pipes.clear();
    m.by_index.clear();
    for (int fd : m.ended) ::close(fd);
}

void Output::keep_lines(LogStore* store, std::function<void()> on_lines) {
    impl_->store = store;
    impl_->on_lines = std::move(on_lines);
}

void Output::set_service_names(const std::vector<std::string>& names, std::size_t width) {
    Impl& m = *impl_;
    for (const auto& n : names) width = std::max(width, display_width(n));
    m.prefixes.clear();
    m.prefixes.reserve(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string pad(width - display_width(names[i]), ' ');
        std::string plain = names[i] + pad + " | ";
        std::string coloured = kColours[i % kColours.size()] + names[i] + kReset + pad + " | ";
        m.prefixes.push_back({std::move(plain), std::move(coloured)});
    }
}

void Output::attach(std::size_t index, OutputPipe out, OutputPipe err) {
    Impl& m = *impl_;
    const OutputPipe ends[2] = {out, err};
    for (int i = 0; i < 2; ++i) {
        const int fd = ends[i].read;
        int write_fd = ends[i].write;
        if (write_fd >= 0 && (fd < 0 || m.write_ends >= m.write_ends_budget)) {
            ::close(write_fd);
            write_fd = -1;
        }
        if (fd < 0) continue;
        // The read end is ours alone (the child, and our copy, are write
        // ends), so making it non-blocking affects nobody else; no other status
        // flag to keep (F_SETFL ignores the access mode).
        if (::fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
            ::close(fd);
            if (write_fd >= 0) ::close(write_fd);
            continue;
        }
        auto p = std::make_unique<Impl::Pipe>();
        p->impl = &m;
        p->index = index;
        p->sink = m.sink_for[i];
        p->fd = fd;
        p->write_fd = write_fd;
        if (write_fd >= 0) ++m.write_ends;
        // EV_WRITE too, though a read end never becomes writable: a pipe's
        // end of file comes as EPOLLHUP, which libev reports as readable
        // and writable, and it re-arms an fd (one more epoll_ctl, per pipe
        // at every stop) when it reports more than was asked for. The
        // callback reads whatever the event says.
        ev_io_init(&p->readable, Impl::on_pipe_readable, fd, EV_READ | EV_WRITE);
        p->readable.data = p.get();
        if (!p->sink->paused()) ev_io_start(m.loop, &p->readable);
        p->slot = m.pipes.size();
        m.by_index[index].push_back(p.get());
        m.pipes.push_back(std::move(p));
    }
}

void Output::expect_pipes(std::size_t count) {
    // Every descriptor we hold is copied into each child at its clone (and
    // closed again at its exec): copies of write ends for 500 services made
    // a 500-service start 12 % slower. The wake-ups they save matter where
    // exits come one by one (a chain, a few services), not for hundreds
    // stopping at once, whose exits share wake-ups anyway. So: up to 64
    // services, and only with room for every read end and everything else
    // the supervisor opens (sockets, clients, probes) within the open files
    // limit, so that a copy never costs a service its pipes.
    constexpr std::size_t kMostPipes = 128;
    constexpr std::size_t kOtherFiles = 256;
    Impl& m = *impl_;
    const bool room = m.open_files_limit >= 2 * count + kOtherFiles;
    m.write_ends_budget = count <= kMostPipes && room ? count : 0;
}

void Output::set_shared_destinations(bool shared) {
    for (auto& s : impl_->sinks)
        if (s) s->set_shared(shared);
}

void Output::leader_gone(std::size_t index) {
    Impl& m = *impl_;
    if (auto it = m.by_index.find(index); it != m.by_index.end())
        for (Impl::Pipe* p : it->second) m.drop_write_end(*p);
}

void Output::read_available(std::size_t index) {
    Impl& m = *impl_;
    std::vector<Impl::Pipe*> mine;
    if (auto it = m.by_index.find(index); it != m.by_index.end())
        for (Impl::Pipe* p : it->second)
            if (!p->sink->paused()) mine.push_back(p);
    // A bounded number of reads: a grandchild that keeps writing must not
    // hold up the exit report; the loop reads the rest as usual.
    for (Impl::Pipe* p : mine) {
        for (int i = 0; i < 4; ++i) {
            const std::size_t before = m.pipes.size();
            const std::size_t queued = p->sink->queued();
            m.read_pipe(*p);
            if (m.pipes.size() != before) break;  // EOF: p was closed and freed
            if (p->sink->queued() == queued || p->sink->paused()) break;
        }
    }
}

void Output::own_line(std::string line) {
    Impl& m = *impl_;
    OutputSink& sink = *m.sink_for[1];
    // The supervisor's own lines are not subject to back-pressure (they must
    // not block the loop), so they get a hard cap for a destination that
    // stalls for good; beyond it they are dropped.
    if (sink.broken() || sink.queued() > 16 * kQueueBound) return;
    if (line.empty() || line.back() != '\n') line += '\n';
    sink.append(line);
    if (m.finished) {
        sink.flush_blocking();  // the loop is over: nobody would write it later
    } else if (m.held == 0) {
        sink.pump();
    }
}

void Output::hold_own_lines() {
    ++impl_->held;
}

void Output::release_own_lines() {
    Impl& m = *impl_;
    if (m.held > 0 && --m.held == 0) {
        for (auto& s : m.sinks)
            if (s && !s->broken()) s->pump();
        for (int fd : m.ended) ::close(fd);
        m.ended.clear();
    }
}

void Output::finish() {
    Impl& m = *impl_;
    m.finished = true;
    while (!m.pipes.empty()) m.drain_for_finish(*m.pipes.front());
    for (auto& s : m.sinks) {
        if (!s) continue;
        s->unpause();
        s->flush_blocking();
    }
}

}  // namespace sv
