// Every service's recent output, kept in memory for `supervisor logs`.
//
// Each service has a ring of its last lines: at least its last kMaxLines
// lines or kMaxBytes of text, whichever is less. The oldest line goes when
// kMaxLines are kept, or when the lines after it (the new one included)
// still hold kMaxBytes; so a ring never holds more than kMaxLines lines or
// 2 x kMaxBytes (kMaxBytes plus one line, itself cut at kMaxBytes), and the
// memory a service's output can take is bounded and never grows with
// uptime. The text lives in one circular byte buffer per service (lines are
// copied in with memcpy, no allocation per line; the buffer grows by
// doubling up to kMaxCapacity, so a quiet service costs little), and
// each line has a record: its global sequence number (one counter for all
// services, so lines of several services merge in the order they arrived)
// and where its bytes are.
//
// Readers never hold on to the ring: they keep a cursor, the per-service
// index of the next line they want (indexes count every line ever appended).
// A reader whose next line has been evicted meanwhile skips to the oldest
// line still kept and is told how many it lost: a follower that cannot keep
// up loses lines, it never holds the services back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sv {

class LogRing {
  public:
    static constexpr std::size_t kMaxLines = 1000;
    static constexpr std::size_t kMaxBytes = 1024 * 1024;
    static constexpr std::size_t kMaxCapacity = 2 * kMaxBytes;

    // Appends a line (without its newline); longer than kMaxBytes: cut.
    void append(std::uint64_t seq, std::string_view line) {
        if (!append_to_full(seq, line)) append_slow(seq, line);
    }

    // Indexes of the oldest line kept and one past the newest.
    std::uint64_t begin() const { return end_ - count_; }
    std::uint64_t end() const { return end_; }

    // Line `index` (begin() <= index < end()): its sequence number, and its
    // text appended to `out`.
    std::uint64_t seq(std::uint64_t index) const;
    void text(std::uint64_t index, std::string& out) const;

    std::size_t bytes() const { return used_; }

  private:
    struct Record {
        std::uint64_t seq;
        std::size_t offset;  // in data_
        std::size_t length;
    };

    const Record& record(std::uint64_t index) const;
    // The steady state of a chatty service, inline (it runs once per line
    // of output): the ring holds kMaxLines lines, the new one replaces the
    // oldest, no other line has to go for bytes, and it fits in one piece
    // at head_. False (nothing changed) otherwise.
    bool append_to_full(std::uint64_t seq, std::string_view line);
    void append_slow(std::uint64_t seq, std::string_view line);
    void evict_oldest();
    void grow(std::size_t need);

    std::unique_ptr<char[]> data_;
    std::size_t capacity_ = 0;     // of data_
    std::size_t head_ = 0;         // where the next line's bytes go
    std::size_t used_ = 0;         // bytes held by the lines kept
    std::vector<Record> records_;  // circular, kMaxLines at most
    std::size_t first_record_ = 0;
    std::size_t count_ = 0;
    std::uint64_t end_ = 0;
};

inline bool LogRing::append_to_full(std::uint64_t seq, std::string_view line) {
    if (count_ != kMaxLines) return false;
    Record& r = records_[first_record_];  // the oldest, and the new line's slot
    const std::size_t used = used_ - r.length + line.size();
    // used < kMaxBytes: no other line goes (nor is the line cut); the rest:
    // the free bytes after head_ hold it without wrapping.
    if (used >= kMaxBytes || used > capacity_ || line.size() > capacity_ - head_) return false;
    first_record_ = first_record_ + 1 == kMaxLines ? 0 : first_record_ + 1;
    r.seq = seq;
    r.offset = head_;
    r.length = line.size();
    if (!line.empty()) std::memcpy(data_.get() + head_, line.data(), line.size());
    head_ += line.size();
    if (head_ == capacity_) head_ = 0;
    used_ = used;
    ++end_;
    return true;
}

// The rings of all services, by service id, and the one sequence counter.
class LogStore {
  public:
    void append(std::size_t id, std::string_view line);
    // The same through a ring looked up once (the output's hot path: once
    // per read, not once per line).
    LogRing& ring_for(std::size_t id);
    void append(LogRing& ring, std::string_view line) { ring.append(next_seq_++, line); }
    // nullptr when the service has written nothing yet.
    const LogRing* ring(std::size_t id) const;
    std::uint64_t next_seq() const { return next_seq_; }

  private:
    std::vector<std::unique_ptr<LogRing>> rings_;
    std::uint64_t next_seq_ = 0;
};

// A reader of several services' rings, in arrival order.
class LogCursor {
  public:
    // `ids` to read; `last_lines`: start with at most this many of the most
    // recent lines (all of them: SIZE_MAX); later lines follow as they come,
    // unless `snapshot`: then only the lines there are now.
    LogCursor(const LogStore& store, std::vector<std::size_t> ids, std::size_t last_lines,
              bool snapshot = false);

    // The next line in arrival order: its service id and text (appended to
    // `text`). False when there is none (yet). Lines lost to eviction since
    // the last call are added to dropped().
    bool next(std::size_t& id, std::string& text);

    // Lines lost since take_dropped() was last called.
    std::uint64_t take_dropped();

  private:
    const LogStore& store_;
    std::vector<std::size_t> ids_;
    std::vector<std::uint64_t> next_;  // per id: the next index wanted
    std::vector<std::uint64_t> stop_;  // per id: where a snapshot ends (or never)
    std::uint64_t dropped_ = 0;
};

}  // namespace sv
