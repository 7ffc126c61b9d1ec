// Single-command mode's configuration: see single_command.h.
#include "single_command.h"

namespace sv {

namespace {

std::string basename_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    std::string b = slash == std::string::npos ? path : path.substr(slash + 1);
    return b.empty() ? "command" : b;
}

ServiceConfig command_service(const SingleCommandOptions& options) {
    ServiceConfig s;
    s.name = options.argv.empty() ? "command" : basename_of(options.argv[0]);
    s.argv = options.argv;
    s.log = LogMode::Inherit;
    s.critical = true;
    s.restart = RestartPolicy::Never;
    if (options.stop_signal) s.stop_signal = *options.stop_signal;
    if (options.grace) s.stop_grace = *options.grace;
    return s;
}

}  // namespace

Config single_command_config(const SingleCommandOptions& options) {
    Config c;
    c.file = "<command line>";
    c.supervisor.health_listen = options.health_listen.value_or("");
    ServiceConfig s = command_service(options);
    c.supervisor.shutdown_timeout = s.stop_grace * 2 + Duration(5000);
    c.services.push_back(std::move(s));
    return c;
}

void add_main_command(Config& config, const SingleCommandOptions& options) {
    ServiceConfig s = command_service(options);
    s.main_command = true;
    // As the container's CMD it sees what [supervisor] env_file sets for
    // every service (docker run --env-file gives it to the CMD too).
    s.env_file_vars = config.supervisor.env_file_vars;
    while (config.find(s.name) >= 0) s.name += "-command";
    config.services.push_back(std::move(s));
}

}  // namespace sv
