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

// Reads the file, then parse_config(). A missing or unreadable file is a
// ConfigError without a position, with the errno text. Throws ConfigError.
Config load_config_file(const std::string& path);

}  // namespace sv
