// libFuzzer target: the output path's pure pieces against simple models.
//
// The input is a program: bytes split into service output (fed to a
// LineBuffer in pieces of the sizes the input chooses), whose lines go to a
// LogStore; LogCursors read it now and then. Checked after every step: the
// lines the LineBuffer hands out are the model's (split at '\n', pieces of
// at most kMaxLine), and each ring holds exactly the model's last lines
// (at least the last kMaxLines of them or kMaxBytes of text, whichever is
// less, and not a line more; longer lines cut).
// An empty line first once crashed the supervisor here (a division by the
// ring's zero capacity): lines of every length, 0 included, are common.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "line_buffer.h"
#include "log_ring.h"

namespace {

struct Model {
    std::deque<std::string> lines;
    std::size_t bytes = 0;

    void append(std::string line) {
        if (line.size() > sv::LogRing::kMaxBytes) line.resize(sv::LogRing::kMaxBytes);
        while (!lines.empty() &&
               (lines.size() == sv::LogRing::kMaxLines ||
                bytes - lines.front().size() + line.size() >= sv::LogRing::kMaxBytes)) {
            bytes -= lines.front().size();
            lines.pop_front();
        }
        bytes += line.size();
        lines.push_back(std::move(line));
    }
};

void check(const sv::LogRing* ring, const Model& m) {
    if (!ring) {
        if (!m.lines.empty()) std::abort();
        return;
    }
    if (ring->end() - ring->begin() != m.lines.size()) std::abort();
    if (ring->bytes() != m.bytes) std::abort();
    std::size_t k = 0;
    for (std::uint64_t i = ring->begin(); i < ring->end(); ++i, ++k) {
        std::string text;
        ring->text(i, text);
        if (text != m.lines[k]) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    constexpr std::size_t kServices = 3;
    sv::LogStore store;
    std::vector<sv::LineBuffer> buffers(kServices);
    std::vector<std::string> pending(kServices);  // the model of each LineBuffer's tail
    std::vector<Model> models(kServices);
    std::size_t at = 0;
    auto byte = [&]() -> std::uint8_t { return at < size ? data[at++] : 0; };
    while (at < size) {
        const std::uint8_t op = byte();
        const std::size_t id = op % kServices;
        if ((op >> 2) % 8 == 0) {
            // A reader: everything it gets is in arrival order, never more
            // than there is; what it lost is counted, not returned.
            sv::LogCursor cursor(store, {0, 1, 2}, byte() * 8u, (op >> 5) & 1);
            std::size_t got_id = 0;
            std::string text;
            for (int n = 0; n < 3000 && cursor.next(got_id, text); ++n) {
                if (got_id >= kServices) std::abort();
                text.clear();
            }
            (void)cursor.take_dropped();
            continue;
        }
        // A piece of output: its length (stretched now and then to make
        // lines longer than kMaxLine), then its bytes.
        std::size_t len = byte();
        if ((op >> 5) == 7) len *= 97;
        std::string piece;
        for (std::size_t i = 0; i < len && at < size; ++i) {
            const std::uint8_t b = byte();
            piece.push_back(b % 5 == 0 ? '\n' : static_cast<char>('a' + b % 26));
        }
        std::vector<std::string> got;
        buffers[id].feed(piece, [&](std::string_view line) { got.emplace_back(line); });
        // The model: split at '\n'; a tail over kMaxLine goes out in pieces.
        std::vector<std::string> want;
        for (char c : piece) {
            if (c == '\n') {
                want.push_back(pending[id]);
                pending[id].clear();
                continue;
            }
            if (pending[id].size() == sv::kMaxLine) {
                want.push_back(pending[id]);
                pending[id].clear();
            }
            pending[id].push_back(c);
        }
        if (got != want) std::abort();
        if (buffers[id].pending() != pending[id].size()) std::abort();
        for (std::string& line : got) {
            store.append(store.ring_for(id), line);
            models[id].append(std::move(line));
        }
        for (std::size_t s = 0; s < kServices; ++s) check(store.ring(s), models[s]);
    }
    return 0;
}
