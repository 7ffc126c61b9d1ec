// JSON string escaping, shared by the log's JSON lines and /status.
#pragma once

#include <string>
#include <string_view>

namespace sv {

// `s` as a JSON string literal, quotes included. Control characters are
// escaped; bytes >= 0x80 pass through (the text is UTF-8 as it came).
std::string json_quote(std::string_view s);

}  // namespace sv
