// The configuration model's few behaviours (see config.h); the loader is in
// config_load.cc.
#include "config.h"

#include <algorithm>

namespace sv {

ConfigError::ConfigError(std::string file, SourcePos pos, std::string message)
    : std::runtime_error(pos.line > 0 ? file + ":" + std::to_string(pos.line) + ":" +
                                            std::to_string(pos.column) + ": " + message
                                      : file + ": " + message),
      file_(std::move(file)),
      pos_(pos),
      message_(std::move(message)) {}

bool ServiceConfig::is_success(int exit_code) const {
    return std::find(success_codes.begin(), success_codes.end(), exit_code) != success_codes.end();
}

int Config::find(std::string_view name) const {
    for (std::size_t i = 0; i < services.size(); ++i)
        if (services[i].name == name) return static_cast<int>(i);
    return -1;
}

}  // namespace sv
