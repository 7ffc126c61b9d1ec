// Finding and reading the configuration file; the parsing is the core's
// (core/config.h parse_config).
#pragma once

#include <string>

#include "config.h"

namespace sv {

// `explicit_path` (-c FILE) when given, else $SUPERVISOR_CONFIG, else
// ./supervisor.toml, else /etc/supervisor/supervisor.toml (the first that
// exists; the last when none does).
std::string resolve_config_path(const std::string& explicit_path);

// Reads the file, then parse_config(), then (with `env_files`) the env
// files it names into each service's env_file_vars. A missing or
// unreadable file is a ConfigError (an env file's at its `env_file` entry),
// a bad line of an env file one at that file's LINE:COLUMN. Clients that
// only need an address from the file pass env_files = false.
Config load_config_file(const std::string& path, bool env_files = true);

// Reads the env files of `config` (see above). Throws ConfigError.
void read_env_files(Config& config);

}  // namespace sv
