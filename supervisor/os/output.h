// Service output on the libev loop (docs/logging.md, `log = "prefix"`).
//
// Each service's stdout and stderr arrive on pipes. Reads are assembled into
// whole lines (LineBuffer) and queued as "NAME | line" (name padded to one
// width, coloured when the destination is a terminal and NO_COLOR is unset)
// on the supervisor's own stdout or stderr respectively. The supervisor's own
// messages join stderr's queue, so the two interleave only at line boundaries.
//
// The two destinations are OutputSinks (output_sink.h): queues written
// without blocking the loop, with back-pressure on the pipes that feed them.
// Nothing is dropped: finish() reads every pipe to its end and writes
// everything before the supervisor exits.
//
// While a service's leader runs, the supervisor keeps its own copy of each
// pipe's write end (for up to 64 services: see expect_pipes()). A process closes its
// descriptors before the kernel reports its exit, and each close of a last
// write end woke the loop: three wake-ups per exit (two pipes, then
// SIGCHLD) where one does. With our copy the pipes cannot end before the
// leader is reaped; leader_gone() then drops our copies, and the pipes
// end as soon as nobody else holds them.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct ev_loop;

namespace sv {

class LogStore;

// One output pipe of a spawned service: the read end, and the supervisor's
// copy of the write end the child got (-1: none).
struct OutputPipe {
    int read = -1;
    int write = -1;
};

class Output {
  public:
    explicit Output(struct ev_loop* loop);
    ~Output();
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;

    // The name of each service by id ("" for ids no longer used) and the
    // width names are padded to (the longest configured name).
    void set_service_names(const std::vector<std::string>& names_by_id, std::size_t width);

    // Every line of a prefix-mode service also goes to `store` (the rings
    // `supervisor logs` reads); `on_lines` is called after each read that
    // added some.
    void keep_lines(LogStore* store, std::function<void()> on_lines);

    // Some service writes straight to our stdout/stderr (log = "inherit").
    // Then writes to a pipe go out in pieces of at most PIPE_BUF bytes that
    // end at a line boundary: such writes are atomic, so another writer's
    // small writes can land only between our lines. (Without inherit
    // services, larger batches are written for throughput.)
    void set_shared_destinations(bool shared);

    // `count` read ends at most (two per service logging in prefix mode):
    // whether copies of the write ends are kept (up to 64 services, within
    // the open files limit).
    void expect_pipes(std::size_t count);

    // Takes ownership of service `id`'s stdout/stderr pipes (read -1: not
    // piped). Called once per spawn; earlier pipes of the same service
    // (still held by grandchildren) keep being read.
    void attach(std::size_t index, OutputPipe out, OutputPipe err);

    // Service `index`'s leader is gone: drops our copies of its write ends,
    // so that its pipes can end.
    void leader_gone(std::size_t index);
    // Reads what service `index` has already written (without blocking), so
    // that its lines come out before what the supervisor reports next about
    // it: its exit, or its readiness. (Within one wake-up libev runs the
    // callbacks last in, first out: the probe's verdict or SIGCHLD first,
    // the pipe's data after, although the service wrote it before.)
    void read_available(std::size_t index);

    // One of the supervisor's own lines (ending in '\n') for stderr.
    void own_line(std::string line);
    // Between hold_own_lines() and release_own_lines() (nested: counted)
    // own lines, and service lines read meanwhile, are queued without a
    // write each (up to a bound): 500 services stopping are one write of
    // 500 lines, not 500 writes. Release writes what it can, then closes
    // the pipes that reached their end meanwhile (after the batch's work).
    void hold_own_lines();
    void release_own_lines();

    // Before exit: read every pipe until EOF or until it would block, emit
    // partial last lines, then write everything queued, blocking if needed.
    void finish();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sv
