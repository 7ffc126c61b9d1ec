// Turning a byte stream into whole lines (pure; used by output.cc for the
// `prefix` log mode).
//
// Bytes are appended as they are read from a service's pipe; complete lines
// are handed out; a line longer than kMaxLine is cut into kMaxLine pieces so
// memory stays bounded; at EOF the unterminated rest is handed out as a last
// line (a newline is added to it).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace sv {

constexpr std::size_t kMaxLine = 16 * 1024;

class LineBuffer {
  public:
    using Emit = std::function<void(std::string_view line)>;  // without the '\n'

    // Feeds bytes; calls `emit` for each complete (or over-long) line.
    void feed(std::string_view bytes, const Emit& emit);
    // End of stream: emits the partial last line, if any.
    void finish(const Emit& emit);
    std::size_t pending() const { return partial_.size(); }

  private:
    std::string partial_;
};

}  // namespace sv
