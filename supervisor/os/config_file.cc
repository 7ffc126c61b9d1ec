// Reading the configuration file: see config_file.h.
#include "config_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "env_file.h"

namespace sv {

std::string resolve_config_path(const std::string& explicit_path) {
    if (!explicit_path.empty()) return explicit_path;
    if (const char* env = std::getenv("SUPERVISOR_CONFIG"); env && *env) return env;
    struct stat st;
    if (::stat("supervisor.toml", &st) == 0) return "supervisor.toml";
    return "/etc/supervisor/supervisor.toml";
}

namespace {

// The whole file, or the errno of what failed.
int read_file(const std::string& path, std::string& text) {
    // stdio rather than ifstream: errno is reliable after fopen/fread, and
    // "cannot read: Permission denied" is worth the difference.
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return errno;
    char buf[8192];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    const int err = std::ferror(f) ? (errno ? errno : EIO) : 0;
    std::fclose(f);
    return err;
}

}  // namespace

Config load_config_file(const std::string& path, bool env_files) {
    std::string text;
    if (const int err = read_file(path, text))
        throw ConfigError(path, {}, std::string("cannot read: ") + std::strerror(err));
    Config config = parse_config(text, path);
    if (env_files) read_env_files(config);
    return config;
}

void read_env_files(Config& config) {
    // Each file once, however many services name it.
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> read;
    const auto vars_of = [&](const EnvFile& f) -> const auto& {
        auto it = read.find(f.path);
        if (it != read.end()) return it->second;
        std::string text;
        if (const int err = read_file(f.path, text))
            throw ConfigError(config.file, f.pos,
                              "env_file: cannot read " + f.path + ": " + std::strerror(err));
        return read.emplace(f.path, parse_env_file(text, f.path)).first->second;
    };
    std::vector<std::pair<std::string, std::string>> common;
    for (const EnvFile& f : config.supervisor.env_files)
        for (const auto& kv : vars_of(f)) common.push_back(kv);
    config.supervisor.env_file_vars = common;
    for (ServiceConfig& s : config.services) {
        s.env_file_vars = common;
        for (const EnvFile& f : s.env_files)
            for (const auto& kv : vars_of(f)) s.env_file_vars.push_back(kv);
    }
}

}  // namespace sv
