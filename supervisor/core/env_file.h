// Environment files in the docker compose `.env` format, for `env_file`.
//
//   # a comment             (and blank lines)
//   KEY=VALUE               unquoted: surrounding blanks trimmed; " #" starts a comment
//   export KEY=VALUE        the shell's `export ` is accepted and ignored
//   KEY='VALUE'             single quotes: the text as it is
//   KEY="VALUE"             double quotes: \n, \t, \", \\ escapes
//   KEY=                    an empty value
//
// A line that is none of these is an error at its FILE:LINE:COLUMN, so a
// typo in an env file is caught by `check` like one in the TOML.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sv {

// The variables of `text` in file order (a later line for the same key
// wins when they are applied). Throws ConfigError naming `file`.
std::vector<std::pair<std::string, std::string>> parse_env_file(std::string_view text,
                                                                const std::string& file);

}  // namespace sv
