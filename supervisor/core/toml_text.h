// A look at the raw text around toml++.
//
// TOML allows no control character but tab and the line ends anywhere, and
// non-ASCII characters only inside strings and comments. Debian 12's
// toml++ 3.3 has a flaw that makes the second rule matter more than usual:
// it tests characters outside strings and comments for being whitespace,
// and for some non-ASCII ones (U+00A1 to U+0499 among them) that test runs
// into a __builtin_unreachable() of its generated Unicode tables: undefined
// behaviour (found by fuzz/config_fuzz.cc). So the text reaches toml++
// only once it is known to be safe:
//   1. control characters are refused first, with their position;
//   2. if there is any non-ASCII character, a copy with each of them
//      masked as '?' (ASCII, one column each, allowed exactly where they
//      are: in strings and comments) is parsed first; an error there is
//      the file's error, and the original text is never parsed;
//   3. the one place inside a string where toml++ still tests for
//      whitespace, the character after a backslash in a multi-line basic
//      string, must not be non-ASCII (no valid escape is);
//   4. only then is the original parsed.
#pragma once

#include <string>
#include <string_view>

namespace sv {

// 1. Throws ConfigError at the first control character.
void check_control_characters(std::string_view text, const std::string& file);

// 2. Whether the text has any byte >= 0x80, and the masked copy.
bool has_non_ascii(std::string_view text);
std::string mask_non_ascii(std::string_view text);

// The character at a 1-based line and column (columns count code points),
// as "U+00E9", or "" when it is ASCII or out of range.
std::string non_ascii_at(std::string_view text, int line, int column);

// 3. Throws ConfigError at a non-ASCII character after a backslash in a
// string. Expects text whose structure toml++ accepted (step 2).
void check_escapes(std::string_view text, const std::string& file);

}  // namespace sv
