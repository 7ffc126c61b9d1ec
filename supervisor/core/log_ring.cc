// Recent output in memory: see log_ring.h.
#include "log_ring.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace sv {

namespace {

constexpr std::size_t kFirstCapacity = 4096;

}  // namespace

const LogRing::Record& LogRing::record(std::uint64_t index) const {
    const std::size_t k = static_cast<std::size_t>(index - begin());
    return records_[(first_record_ + k) % kMaxLines];
}

std::uint64_t LogRing::seq(std::uint64_t index) const {
    return record(index).seq;
}

void LogRing::text(std::uint64_t index, std::string& out) const {
    const Record& r = record(index);
    const std::size_t first = std::min(r.length, capacity_ - r.offset);
    out.append(data_.get() + r.offset, first);
    out.append(data_.get(), r.length - first);  // the part that wrapped round
}

void LogRing::evict_oldest() {
    const Record& r = records_[first_record_];
    used_ -= r.length;
    first_record_ = first_record_ + 1 == kMaxLines ? 0 : first_record_ + 1;
    --count_;
}

void LogRing::grow(std::size_t need) {
    std::size_t capacity = std::max(capacity_, kFirstCapacity);
    while (capacity < need && capacity < kMaxCapacity) capacity *= 2;
    capacity = std::min(capacity, kMaxCapacity);
    if (capacity == capacity_) return;
    // Lay the lines kept out again from 0, oldest first.
    std::unique_ptr<char[]> data(new char[capacity]);
    std::size_t at = 0;
    for (std::size_t k = 0; k < count_; ++k) {
        Record& r = records_[(first_record_ + k) % kMaxLines];
        const std::size_t first = std::min(r.length, capacity_ - r.offset);
        // Empty lines kept before the first allocation have no bytes (and
        // data_ is still null): nothing to copy, and memcpy() must not see it.
        if (first > 0) std::memcpy(data.get() + at, data_.get() + r.offset, first);
        if (r.length > first) std::memcpy(data.get() + at + first, data_.get(), r.length - first);
        r.offset = at;
        at += r.length;
    }
    data_ = std::move(data);
    capacity_ = capacity;
    head_ = at % capacity_;
}

void LogRing::append_slow(std::uint64_t seq, std::string_view line) {
    if (line.size() > kMaxBytes) line = line.substr(0, kMaxBytes);
    if (records_.empty()) records_.resize(kMaxLines);
    // Keep at least the last kMaxLines lines or kMaxBytes, whichever is
    // less: the oldest goes only if what stays still holds kMaxBytes.
    while (count_ > 0 && (count_ == kMaxLines ||
                          used_ - records_[first_record_].length + line.size() >= kMaxBytes))
        evict_oldest();
    // Fits now: what stays is under kMaxBytes without the oldest line, which
    // is at most kMaxBytes itself.
    if (used_ + line.size() > capacity_) grow(used_ + line.size());
    if (count_ == 0) head_ = 0;
    // Wrapping by comparison, not %: this runs once per line of output, and
    // capacity_ is no constant the compiler could turn into a mask.
    std::size_t slot = first_record_ + count_;
    if (slot >= kMaxLines) slot -= kMaxLines;
    Record& r = records_[slot];
    r.seq = seq;
    r.offset = head_;
    r.length = line.size();
    const std::size_t first = std::min(line.size(), capacity_ - head_);
    if (first > 0) std::memcpy(data_.get() + head_, line.data(), first);
    if (first < line.size()) std::memcpy(data_.get(), line.data() + first, line.size() - first);
    head_ += line.size();
    if (head_ >= capacity_) head_ -= capacity_;
    used_ += line.size();
    ++count_;
    ++end_;
}

LogRing& LogStore::ring_for(std::size_t id) {
    if (id >= rings_.size()) rings_.resize(id + 1);
    if (!rings_[id]) rings_[id] = std::make_unique<LogRing>();
    return *rings_[id];
}

void LogStore::append(std::size_t id, std::string_view line) {
    append(ring_for(id), line);
}

const LogRing* LogStore::ring(std::size_t id) const {
    return id < rings_.size() ? rings_[id].get() : nullptr;
}

LogCursor::LogCursor(const LogStore& store, std::vector<std::size_t> ids, std::size_t last_lines,
                     bool snapshot)
    : store_(store),
      ids_(std::move(ids)),
      next_(ids_.size(), 0),
      stop_(ids_.size(), std::numeric_limits<std::uint64_t>::max()) {
    for (std::size_t k = 0; k < ids_.size(); ++k) {
        if (const LogRing* r = store_.ring(ids_[k])) next_[k] = r->end();
        if (snapshot) stop_[k] = next_[k];
    }
    // Step back over the `last_lines` most recent lines, newest first.
    for (std::size_t n = 0; n < last_lines; ++n) {
        std::size_t best = ids_.size();
        std::uint64_t best_seq = 0;
        for (std::size_t k = 0; k < ids_.size(); ++k) {
            const LogRing* r = store_.ring(ids_[k]);
            if (!r || next_[k] <= r->begin()) continue;
            const std::uint64_t s = r->seq(next_[k] - 1);
            if (best == ids_.size() || s > best_seq) {
                best = k;
                best_seq = s;
            }
        }
        if (best == ids_.size()) break;
        --next_[best];
    }
}

bool LogCursor::next(std::size_t& id, std::string& text) {
    std::size_t best = ids_.size();
    std::uint64_t best_seq = 0;
    for (std::size_t k = 0; k < ids_.size(); ++k) {
        const LogRing* r = store_.ring(ids_[k]);
        if (!r) continue;
        if (next_[k] < r->begin()) {  // evicted before we read them
            dropped_ += r->begin() - next_[k];
            next_[k] = r->begin();
        }
        if (next_[k] >= r->end() || next_[k] >= stop_[k]) continue;
        const std::uint64_t s = r->seq(next_[k]);
        if (best == ids_.size() || s < best_seq) {
            best = k;
            best_seq = s;
        }
    }
    if (best == ids_.size()) return false;
    id = ids_[best];
    store_.ring(id)->text(next_[best]++, text);
    return true;
}

std::uint64_t LogCursor::take_dropped() {
    const std::uint64_t d = dropped_;
    dropped_ = 0;
    return d;
}

}  // namespace sv
