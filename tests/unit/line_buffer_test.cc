// LineBuffer: bytes in, whole lines out (pure, no loop).
#include "line_buffer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using sv::kMaxLine;
using sv::LineBuffer;

struct Collector {
    std::vector<std::string> lines;
    LineBuffer::Emit emit() {
        return [this](std::string_view l) { lines.emplace_back(l); };
    }
};

TEST(LineBuffer, SplitsCompleteLines) {
    LineBuffer lb;
    Collector c;
    lb.feed("one\ntwo\nthree\n", c.emit());
    EXPECT_EQ(c.lines, (std::vector<std::string>{"one", "two", "three"}));
    EXPECT_EQ(lb.pending(), 0u);
}

TEST(LineBuffer, JoinsLineAcrossFeeds) {
    LineBuffer lb;
    Collector c;
    lb.feed("hel", c.emit());
    EXPECT_TRUE(c.lines.empty());
    EXPECT_EQ(lb.pending(), 3u);
    lb.feed("lo wo", c.emit());
    lb.feed("rld\nnext", c.emit());
    EXPECT_EQ(c.lines, (std::vector<std::string>{"hello world"}));
    EXPECT_EQ(lb.pending(), 4u);
}

TEST(LineBuffer, ByteByByte) {
    LineBuffer lb;
    Collector c;
    for (char ch : std::string("ab\n\ncd\n")) lb.feed(std::string_view(&ch, 1), c.emit());
    EXPECT_EQ(c.lines, (std::vector<std::string>{"ab", "", "cd"}));
}

TEST(LineBuffer, EmptyLinesAreKept) {
    LineBuffer lb;
    Collector c;
    lb.feed("\n\nx\n\n", c.emit());
    EXPECT_EQ(c.lines, (std::vector<std::string>{"", "", "x", ""}));
}

TEST(LineBuffer, FinishEmitsPartialLastLine) {
    LineBuffer lb;
    Collector c;
    lb.feed("done\nno newline", c.emit());
    lb.finish(c.emit());
    EXPECT_EQ(c.lines, (std::vector<std::string>{"done", "no newline"}));
    EXPECT_EQ(lb.pending(), 0u);
}

TEST(LineBuffer, FinishWithNothingPendingEmitsNothing) {
    LineBuffer lb;
    Collector c;
    lb.finish(c.emit());
    lb.feed("a\n", c.emit());
    lb.finish(c.emit());
    EXPECT_EQ(c.lines, (std::vector<std::string>{"a"}));
}

TEST(LineBuffer, UsableAfterFinish) {
    LineBuffer lb;
    Collector c;
    lb.feed("x", c.emit());
    lb.finish(c.emit());
    lb.feed("y\n", c.emit());
    EXPECT_EQ(c.lines, (std::vector<std::string>{"x", "y"}));
}

TEST(LineBuffer, CrLfIsKeptAsIs) {
    LineBuffer lb;
    Collector c;
    lb.feed("dos\r\nlone\rcr\n", c.emit());
    EXPECT_EQ(c.lines, (std::vector<std::string>{"dos\r", "lone\rcr"}));
}

TEST(LineBuffer, BinaryBytesPassThrough) {
    LineBuffer lb;
    Collector c;
    const std::string bytes("a\0b\xff\n", 5);
    lb.feed(bytes, c.emit());
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0], std::string("a\0b\xff", 4));
}

TEST(LineBuffer, LineOfExactlyMaxIsOneLine) {
    LineBuffer lb;
    Collector c;
    const std::string line(kMaxLine, 'x');
    lb.feed(line, c.emit());
    EXPECT_TRUE(c.lines.empty());
    EXPECT_EQ(lb.pending(), kMaxLine);
    lb.feed("\n", c.emit());
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0], line);
}

TEST(LineBuffer, OverLongLineIsCutIntoPieces) {
    LineBuffer lb;
    Collector c;
    const std::string line = std::string(kMaxLine, 'a') + std::string(kMaxLine, 'b') + "cc";
    lb.feed(line + "\n", c.emit());
    ASSERT_EQ(c.lines.size(), 3u);
    EXPECT_EQ(c.lines[0], std::string(kMaxLine, 'a'));
    EXPECT_EQ(c.lines[1], std::string(kMaxLine, 'b'));
    EXPECT_EQ(c.lines[2], "cc");
}

TEST(LineBuffer, OverLongLineInSmallFeedsStaysBounded) {
    LineBuffer lb;
    Collector c;
    const std::string chunk(1000, 'z');
    std::size_t fed = 0;
    while (fed < 3 * kMaxLine + 5) {
        lb.feed(chunk, c.emit());
        fed += chunk.size();
        EXPECT_LE(lb.pending(), kMaxLine);
    }
    lb.finish(c.emit());
    std::size_t total = 0;
    for (const auto& l : c.lines) {
        EXPECT_LE(l.size(), kMaxLine);
        total += l.size();
    }
    EXPECT_EQ(total, fed);
    EXPECT_EQ(c.lines.front().size(), kMaxLine);
}

TEST(LineBuffer, OverLongPartialIsFinishedInPieces) {
    LineBuffer lb;
    Collector c;
    lb.feed(std::string(kMaxLine + 10, 'q'), c.emit());
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(lb.pending(), 10u);
    lb.finish(c.emit());
    ASSERT_EQ(c.lines.size(), 2u);
    EXPECT_EQ(c.lines[1], std::string(10, 'q'));
}

TEST(LineBuffer, ManyLinesInOneFeed) {
    LineBuffer lb;
    Collector c;
    std::string bytes;
    for (int i = 0; i < 1000; ++i) bytes += "line " + std::to_string(i) + "\n";
    lb.feed(bytes, c.emit());
    ASSERT_EQ(c.lines.size(), 1000u);
    EXPECT_EQ(c.lines[999], "line 999");
}

}  // namespace
