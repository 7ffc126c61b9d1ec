// Durations as the configuration writes them: "250ms", "5s", "2m", "1m30s",
// "1h", or a bare number of seconds ("5", "0.5"). Everything inside the
// supervisor counts time in milliseconds on the monotonic clock.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sv {

using Duration = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// Parses "1m30s", "250ms", "1.5s", "10" (seconds). Units: ms, s, m, h.
// Returns nullopt for anything else (empty, negative, unknown unit, overflow).
std::optional<Duration> parse_duration(std::string_view text);

// Seconds given as a TOML number (integer or float). nullopt when negative or huge.
std::optional<Duration> duration_from_seconds(double seconds);

// Short human form: "250ms", "2s", "1.5s", "1m30s".
std::string format_duration(Duration d);

}  // namespace sv
