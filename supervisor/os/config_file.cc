// Reading the configuration file: see config_file.h.
#include "config_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sv {

std::string resolve_config_path(const std::string& explicit_path) {
    if (!explicit_path.empty()) return explicit_path;
    if (const char* env = std::getenv("SUPERVISOR_CONFIG"); env && *env) return env;
    struct stat st;
    if (::stat("supervisor.toml", &st) == 0) return "supervisor.toml";
    return "/etc/supervisor/supervisor.toml";
}

Config load_config_file(const std::string& path) {
    // stdio rather than ifstream: errno is reliable after fopen/fread, and
    // "cannot read: Permission denied" is worth the difference.
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw ConfigError(path, {}, std::string("cannot read: ") + std::strerror(errno));
    std::string text;
    char buf[8192];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    const int err = std::ferror(f) ? errno : 0;
    std::fclose(f);
    if (err) throw ConfigError(path, {}, std::string("cannot read: ") + std::strerror(err));
    return parse_config(text, path);
}

}  // namespace sv
