// Single-command mode's configuration: see single_command.h.
#include "single_command.h"

namespace sv {

namespace {

std::string basename_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    std::string b = slash == std::string::npos ? path : path.substr(slash + 1);
    return b.empty() ? "command" : b;
}

}  // namespace

Config single_command_config(const SingleCommandOptions& options) {
    Config c;
    c.file = "<command line>";
    c.supervisor.health_listen = options.health_listen.value_or("");
    ServiceConfig s;
    s.name = options.argv.empty() ? "command" : basename_of(options.argv[0]);
    s.argv = options.argv;
    s.log = LogMode::Inherit;
    s.critical = true;
    s.restart = RestartPolicy::Never;
    if (options.stop_signal) s.stop_signal = *options.stop_signal;
    if (options.grace) s.stop_grace = *options.grace;
    c.supervisor.shutdown_timeout = s.stop_grace * 2 + Duration(5000);
    c.services.push_back(std::move(s));
    return c;
}

}  // namespace sv
