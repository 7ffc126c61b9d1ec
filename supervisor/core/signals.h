// Signal names both ways: "SIGTERM", "TERM", "sigterm" -> 15; 15 -> "SIGTERM".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sv {

// Accepts the name with or without the "SIG" prefix, in any case, or a number.
std::optional<int> parse_signal(std::string_view name);

// "SIGTERM" for 15; "SIG42" for a number with no name.
std::string signal_name(int sig);

}  // namespace sv
