// Durations both ways: what the configuration may write, what it may not,
// and that format_duration() writes what parse_duration() reads back.
#include "duration.h"

#include <gtest/gtest.h>

namespace sv {
namespace {

using std::chrono::milliseconds;

TEST(Duration, ParsesUnits) {
    EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
    EXPECT_EQ(parse_duration("5s"), milliseconds(5000));
    EXPECT_EQ(parse_duration("2m"), milliseconds(120000));
    EXPECT_EQ(parse_duration("1h"), milliseconds(3600000));
    EXPECT_EQ(parse_duration("0s"), milliseconds(0));
    EXPECT_EQ(parse_duration("0ms"), milliseconds(0));
}

TEST(Duration, ParsesCompoundAndFractions) {
    EXPECT_EQ(parse_duration("1m30s"), milliseconds(90000));
    EXPECT_EQ(parse_duration("1h2m3s4ms"), milliseconds(3723004));
    EXPECT_EQ(parse_duration("1.5s"), milliseconds(1500));
    EXPECT_EQ(parse_duration("0.25s"), milliseconds(250));
    EXPECT_EQ(parse_duration("1.5h"), milliseconds(5400000));
    EXPECT_EQ(parse_duration("1.1s"), milliseconds(1100));
}

TEST(Duration, BareNumberIsSeconds) {
    EXPECT_EQ(parse_duration("10"), milliseconds(10000));
    EXPECT_EQ(parse_duration("0.5"), milliseconds(500));
    EXPECT_EQ(parse_duration("0"), milliseconds(0));
}

TEST(Duration, RejectsMalformed) {
    for (const char* bad : {"",   " ",    "5 sec", "5 s",  " 5s", "5s ", "-5s",   "+5s", "-5",
                            "s",  "ms",   "5x",    "5sec", "1.s", ".5s", "1..5s", "5us", "5ns",
                            "5d", "1e3s", "1e3",   "inf",  "nan", "5S",  "1m30",  "abc", "1,5s"})
        EXPECT_FALSE(parse_duration(bad)) << "'" << bad << "'";
}

TEST(Duration, RejectsOverflow) {
    EXPECT_EQ(parse_duration("100000h"), milliseconds(100000LL * 3600 * 1000));
    EXPECT_FALSE(parse_duration("100001h"));
    EXPECT_FALSE(parse_duration("99999999999999999999999999s"));
    EXPECT_FALSE(parse_duration("99999h99999h"));
}

TEST(Duration, FromSeconds) {
    EXPECT_EQ(duration_from_seconds(5), milliseconds(5000));
    EXPECT_EQ(duration_from_seconds(0.25), milliseconds(250));
    EXPECT_EQ(duration_from_seconds(0), milliseconds(0));
    EXPECT_EQ(duration_from_seconds(0.0004), milliseconds(0));  // rounded to the millisecond
    EXPECT_FALSE(duration_from_seconds(-1));
    EXPECT_FALSE(duration_from_seconds(1e300));
    EXPECT_FALSE(duration_from_seconds(std::numeric_limits<double>::infinity()));
    EXPECT_FALSE(duration_from_seconds(std::numeric_limits<double>::quiet_NaN()));
}

TEST(Duration, Formats) {
    EXPECT_EQ(format_duration(milliseconds(0)), "0s");
    EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
    EXPECT_EQ(format_duration(milliseconds(2000)), "2s");
    EXPECT_EQ(format_duration(milliseconds(1500)), "1.5s");
    EXPECT_EQ(format_duration(milliseconds(1001)), "1.001s");
    EXPECT_EQ(format_duration(milliseconds(90000)), "1m30s");
    EXPECT_EQ(format_duration(milliseconds(60000)), "1m");
    EXPECT_EQ(format_duration(milliseconds(3600000)), "1h");
    EXPECT_EQ(format_duration(milliseconds(5400000)), "1h30m");
    EXPECT_EQ(format_duration(milliseconds(3601500)), "1h1.5s");
    EXPECT_EQ(format_duration(milliseconds(-1500)), "-1.5s");
}

TEST(Duration, FormatRoundTrips) {
    for (long long ms : {1LL, 999LL, 1000LL, 1234LL, 59999LL, 61000LL, 3599999LL, 7200000LL,
                         90061001LL, 360000000000LL}) {
        auto back = parse_duration(format_duration(milliseconds(ms)));
        ASSERT_TRUE(back) << ms;
        EXPECT_EQ(back->count(), ms);
    }
}

}  // namespace
}  // namespace sv
