// The configuration model's few behaviours (see config.h); the loader is in
// config_load.cc.
#include "config.h"

#include <algorithm>

namespace sv {

namespace {

// A message is one line, whatever it quotes from the file: a value with a
// newline in it ("1\n2") is shown with the escape, as TOML writes it.
std::string one_line(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else if (c == '\t')
            out += "\\t";
        else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            out += '?';
        else
            out += c;
    }
    return out;
}

}  // namespace

ConfigError::ConfigError(std::string file, SourcePos pos, std::string message)
    : std::runtime_error(pos.line > 0 ? one_line(file) + ":" + std::to_string(pos.line) + ":" +
                                            std::to_string(pos.column) + ": " + one_line(message)
                                      : one_line(file) + ": " + one_line(message)),
      file_(std::move(file)),
      pos_(pos),
      message_(one_line(message)) {}

bool ServiceConfig::is_success(int exit_code) const {
    return std::find(success_codes.begin(), success_codes.end(), exit_code) != success_codes.end();
}

bool same_definition(const ServiceConfig& a, const ServiceConfig& b) {
    ServiceConfig x = a, y = b;
    for (ServiceConfig* s : {&x, &y}) {
        s->pos = {};
        s->ready.pos = {};
        s->health.pos = {};
        s->depends_on_pos.clear();
        for (EnvFile& f : s->env_files) f.pos = {};
    }
    return x == y;
}

int Config::find(std::string_view name) const {
    for (std::size_t i = 0; i < services.size(); ++i)
        if (services[i].name == name) return static_cast<int>(i);
    return -1;
}

}  // namespace sv
