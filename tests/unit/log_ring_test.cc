// The in-memory log rings (core/log_ring.h): bounded by lines and bytes,
// merged across services in arrival order, readers told what they lost.
#include "log_ring.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>
#include <vector>

namespace sv {
namespace {

std::vector<std::string> read_all(LogCursor& c) {
    std::vector<std::string> out;
    std::size_t id = 0;
    std::string text;
    while (c.next(id, text)) {
        out.push_back(std::to_string(id) + ":" + text);
        text.clear();
    }
    return out;
}

TEST(LogRing, KeepsTheLastThousandLines) {
    LogRing r;
    for (int i = 0; i < 2500; ++i)
        r.append(static_cast<std::uint64_t>(i), "line " + std::to_string(i));
    EXPECT_EQ(r.end() - r.begin(), LogRing::kMaxLines);
    std::string text;
    r.text(r.begin(), text);
    EXPECT_EQ(text, "line 1500");
    text.clear();
    r.text(r.end() - 1, text);
    EXPECT_EQ(text, "line 2499");
}

TEST(LogRing, AnEmptyFirstLineIsKept) {
    // A service whose first output is "\n": nothing allocated yet, and an
    // empty line must neither divide by the zero capacity nor be lost.
    LogRing r;
    r.append(0, "");
    r.append(1, "after");
    ASSERT_EQ(r.end() - r.begin(), 2u);
    std::string text;
    r.text(r.begin(), text);
    EXPECT_EQ(text, "");
    r.text(r.begin() + 1, text);
    EXPECT_EQ(text, "after");
}

TEST(LogRing, KeepsAtLeastOneMebibyteOfLongLinesAndNotALineMore) {
    // 1 MiB of 10000-byte lines is 104.9 lines: 105 are kept (at least
    // 1 MiB), not 104 (under it) or 106 (one more than needed).
    LogRing r;
    const std::string line(10000, 'x');
    for (int i = 0; i < 500; ++i) r.append(static_cast<std::uint64_t>(i), line);
    EXPECT_GE(r.bytes(), LogRing::kMaxBytes);
    EXPECT_LT(r.bytes() - line.size(), LogRing::kMaxBytes);
    EXPECT_EQ(r.end() - r.begin(), LogRing::kMaxBytes / line.size() + 1);
    std::string text;
    r.text(r.end() - 1, text);
    EXPECT_EQ(text, line);
}

TEST(LogRing, LinesThatWrapRoundComeBackWhole) {
    LogRing r;
    // Lines of varying length so that some cross the end of the buffer.
    std::vector<std::string> lines;
    for (int i = 0; i < 3000; ++i)
        lines.push_back(
            std::string(static_cast<std::size_t>(100 + i % 977), static_cast<char>('a' + i % 26)));
    for (std::size_t i = 0; i < lines.size(); ++i) r.append(i, lines[i]);
    for (std::uint64_t k = r.begin(); k < r.end(); ++k) {
        std::string text;
        r.text(k, text);
        ASSERT_EQ(text, lines[k]) << k;
    }
}

TEST(LogRing, AFullRingHoldsExactlyTheModelsLines) {
    // A full ring takes a shortcut (the new line replaces the oldest in
    // place) unless bytes must go too, the line would wrap, or the buffer
    // must grow: lines of every size, checked against a plain model after
    // every append, cover each way in and out of it.
    LogRing r;
    std::deque<std::string> model;
    std::size_t bytes = 0;
    std::mt19937 rng(14);
    // Phases of 2500 lines: short (the ring fills to kMaxLines), fixed 64
    // bytes (head_ lands exactly on the end of the buffer), about 1 KiB
    // (the line and byte bounds meet), short again, then any size up to
    // over kMaxBytes (bytes evict several lines, the buffer grows).
    const auto length_of = [&](std::uint64_t i) -> std::size_t {
        switch (i / 2500) {
            case 0:
                return rng() % 120;
            case 1:
                return 64;
            case 2:
                return 900 + rng() % 300;
            case 3:
                return rng() % 120;
            default: {
                const std::uint32_t pick = rng() % 100;
                return pick < 60   ? rng() % 120
                       : pick < 97 ? rng() % 4000
                                   : rng() % (LogRing::kMaxBytes + 2);
            }
        }
    };
    for (std::uint64_t i = 0; i < 15000; ++i) {
        const std::size_t len = length_of(i);
        std::string line(len, ' ');
        for (std::size_t j = 0; j < len; ++j) line[j] = static_cast<char>('a' + (i * 7 + j) % 26);
        r.append(i, line);
        if (line.size() > LogRing::kMaxBytes) line.resize(LogRing::kMaxBytes);
        while (!model.empty() &&
               (model.size() == LogRing::kMaxLines ||
                bytes - model.front().size() + line.size() >= LogRing::kMaxBytes)) {
            bytes -= model.front().size();
            model.pop_front();
        }
        bytes += line.size();
        model.push_back(std::move(line));
        ASSERT_EQ(r.end() - r.begin(), model.size()) << i;
        ASSERT_EQ(r.bytes(), bytes) << i;
        if (i % 97 == 0 || i % 2500 > 2400) {
            for (std::uint64_t k = r.begin(); k < r.end(); ++k) {
                std::string text;
                r.text(k, text);
                ASSERT_EQ(text, model[k - r.begin()]) << i << " " << k;
                ASSERT_EQ(r.seq(k), k) << i;
            }
        }
    }
}

TEST(LogRing, GrowsOnlyAsNeeded) {
    LogRing r;
    r.append(0, "hello");
    EXPECT_EQ(r.bytes(), 5u);
}

TEST(LogCursor, MergesServicesInArrivalOrder) {
    LogStore s;
    s.append(1, "b1");
    s.append(0, "a1");
    s.append(1, "b2");
    s.append(0, "a2");
    LogCursor c(s, {0, 1}, SIZE_MAX);
    EXPECT_EQ(read_all(c), (std::vector<std::string>{"1:b1", "0:a1", "1:b2", "0:a2"}));
}

TEST(LogCursor, LastNLinesAcrossServices) {
    LogStore s;
    for (int i = 0; i < 5; ++i) {
        s.append(0, "a" + std::to_string(i));
        s.append(1, "b" + std::to_string(i));
    }
    LogCursor c(s, {0, 1}, 3);
    EXPECT_EQ(read_all(c), (std::vector<std::string>{"1:b3", "0:a4", "1:b4"}));
    LogCursor only_a(s, {0}, 2);
    EXPECT_EQ(read_all(only_a), (std::vector<std::string>{"0:a3", "0:a4"}));
}

TEST(LogCursor, FollowsNewLinesUnlessASnapshot) {
    LogStore s;
    s.append(0, "old");
    LogCursor follow(s, {0}, SIZE_MAX);
    LogCursor snap(s, {0}, SIZE_MAX, /*snapshot=*/true);
    s.append(0, "new");
    EXPECT_EQ(read_all(follow), (std::vector<std::string>{"0:old", "0:new"}));
    EXPECT_EQ(read_all(snap), (std::vector<std::string>{"0:old"}));
    s.append(0, "newer");
    EXPECT_EQ(read_all(follow), (std::vector<std::string>{"0:newer"}));
}

TEST(LogCursor, ASlowReaderIsToldHowManyItLost) {
    LogStore s;
    LogCursor c(s, {0}, 0);  // from now on
    for (int i = 0; i < 1500; ++i) s.append(0, std::to_string(i));
    std::size_t id = 0;
    std::string text;
    ASSERT_TRUE(c.next(id, text));
    EXPECT_EQ(text, "500");  // the oldest line still kept
    EXPECT_EQ(c.take_dropped(), 500u);
    EXPECT_EQ(c.take_dropped(), 0u);
}

TEST(LogCursor, ServicesThatWroteNothingAreFine) {
    LogStore s;
    LogCursor c(s, {7}, SIZE_MAX);
    EXPECT_TRUE(read_all(c).empty());
    s.append(7, "first");
    EXPECT_EQ(read_all(c), (std::vector<std::string>{"7:first"}));
}

}  // namespace
}  // namespace sv
