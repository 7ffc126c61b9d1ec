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

    // Feeds bytes; calls `emit(line)` for each complete (or over-long)
    // line. A template, not an Emit: this is the hot path of the prefix
    // mode, one call per line, and a std::function call cannot be inlined.
    template <class F>
    void feed(std::string_view bytes, F&& emit);
    // End of stream: emits the partial last line, if any.
    void finish(const Emit& emit);
    std::size_t pending() const { return partial_.size(); }

  private:
    std::string partial_;
};

template <class F>
void LineBuffer::feed(std::string_view bytes, F&& emit) {
    while (!bytes.empty()) {
        // Invariant: partial_.size() <= kMaxLine.
        const std::size_t room = kMaxLine - partial_.size();
        const std::size_t nl = bytes.find('\n');
        const bool complete = nl != std::string_view::npos && nl <= room;
        std::size_t take;
        if (complete) {
            take = nl;  // a complete line that fits
        } else if (bytes.size() <= room) {
            partial_.append(bytes);  // the unterminated tail; wait for more
            return;
        } else {
            take = room;  // more than kMaxLine bytes without a newline: cut a piece
        }
        if (partial_.empty()) {
            emit(bytes.substr(0, take));
        } else {
            partial_.append(bytes.substr(0, take));
            emit(std::string_view(partial_));
            partial_.clear();
        }
        bytes.remove_prefix(complete ? take + 1 : take);
    }
}

}  // namespace sv
