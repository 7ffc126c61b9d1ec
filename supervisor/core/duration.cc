// Durations, both ways.
//
// The configuration writes time the way Go and systemd users expect:
// "250ms", "5s", "2m", "1m30s", "1h", "1.5s", or a bare number of seconds
// ("10", "0.5"). Inside the supervisor every duration is a whole number of
// milliseconds, because that is the resolution of every timer we arm and a
// finer one would only invite surprises like "1us" being accepted and then
// rounded away.
//
// Parsing is strict on purpose: no spaces, no signs, no unknown units. A
// typo such as "5 sec" must become a configuration error with a position,
// not a silent 5 seconds or a silent zero. Values are bounded by
// kMaxMillis so that adding any configured duration to a steady_clock
// time point (nanoseconds in 64 bits) can never overflow.
//
// format_duration() is the inverse for humans: it writes the shortest form
// parse_duration() reads back to the same value ("1m30s", "1.5s", "250ms").
#include "duration.h"

#include <cmath>
#include <cstdint>

namespace sv {

namespace {

// 100 000 hours (about 11 years): far beyond any sensible timeout, and far
// below the ~292 years a nanosecond steady_clock can represent.
constexpr std::int64_t kMaxMillis = 100000LL * 3600 * 1000;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Reads "123" or "1.25" at text[i...]; returns the value and advances i.
// Needs at least one digit before the dot and one after it, if present.
std::optional<double> read_number(std::string_view text, std::size_t& i) {
    std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == start) return std::nullopt;
    if (i < text.size() && text[i] == '.') {
        std::size_t frac = ++i;
        while (i < text.size() && is_digit(text[i])) ++i;
        if (i == frac) return std::nullopt;
    }
    // Digit by digit rather than strtod: no locale, no exponents, no "inf".
    double value = 0;
    double scale = 0;
    for (std::size_t k = start; k < i; ++k) {
        if (text[k] == '.') {
            scale = 1;
            continue;
        }
        if (scale == 0) {
            value = value * 10 + (text[k] - '0');
        } else {
            scale /= 10;
            value += (text[k] - '0') * scale;
        }
    }
    return value;
}

// Milliseconds per unit at text[i...], advancing i; 0 for an unknown unit.
double read_unit(std::string_view text, std::size_t& i) {
    std::string_view rest = text.substr(i);
    if (rest.rfind("ms", 0) == 0) {
        i += 2;
        return 1;
    }
    if (rest.empty()) return 0;
    switch (rest[0]) {
        case 'h':
            ++i;
            return 3600.0 * 1000;
        case 'm':
            ++i;
            return 60.0 * 1000;
        case 's':
            ++i;
            return 1000;
        default:
            return 0;
    }
}

std::optional<Duration> from_millis(double ms) {
    if (!(ms >= 0) || ms > static_cast<double>(kMaxMillis)) return std::nullopt;
    return Duration(static_cast<std::int64_t>(std::llround(ms)));
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::size_t i = 0;

    // A bare number is seconds, as when the TOML value is a number.
    std::size_t probe = 0;
    if (auto n = read_number(text, probe); n && probe == text.size()) return from_millis(*n * 1000);

    double total = 0;
    while (i < text.size()) {
        auto n = read_number(text, i);
        if (!n) return std::nullopt;
        double unit = read_unit(text, i);
        if (unit == 0) return std::nullopt;
        total += *n * unit;
        if (total > static_cast<double>(kMaxMillis)) return std::nullopt;
    }
    return from_millis(total);
}

std::optional<Duration> duration_from_seconds(double seconds) {
    if (!std::isfinite(seconds)) return std::nullopt;
    return from_millis(seconds * 1000);
}

std::string format_duration(Duration d) {
    std::int64_t ms = d.count();
    if (ms < 0) return "-" + format_duration(Duration(-ms));
    if (ms == 0) return "0s";
    if (ms < 1000) return std::to_string(ms) + "ms";

    std::string out;
    std::int64_t hours = ms / 3600000;
    std::int64_t minutes = ms / 60000 % 60;
    std::int64_t seconds = ms / 1000 % 60;
    std::int64_t millis = ms % 1000;
    if (hours) out += std::to_string(hours) + "h";
    if (minutes) out += std::to_string(minutes) + "m";
    if (seconds || millis) {
        out += std::to_string(seconds);
        if (millis) {
            // Three digits, trailing zeros dropped: 1500 -> "1.5", 1001 -> "1.001".
            std::string frac = std::to_string(millis + 1000).substr(1);
            while (frac.back() == '0') frac.pop_back();
            out += "." + frac;
        }
        out += "s";
    }
    return out;
}

}  // namespace sv
