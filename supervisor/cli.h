// The command line (SPEC §1): argv -> one Command with its options. Pure
// parsing plus the usage texts; resolving the config path reads the
// environment and the file system (config lookup order).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "duration.h"

namespace sv {

enum class Subcommand { Run, Check, Status, Graph, Help, Version };

struct CliOptions {
    Subcommand command = Subcommand::Run;
    std::string config_path;                   // -c FILE, empty when not given
    std::optional<std::string> health_listen;  // --health-listen
    std::optional<LogFormat> log_format;       // --log-format
    std::optional<Duration> grace;             // run --grace
    std::optional<int> stop_signal;            // run --stop-signal
    std::optional<Duration> grace_budget;      // check --grace-budget
    std::string addr;                          // status --addr
    bool json = false;                         // status --json
    std::vector<std::string> command_argv;     // run -- COMMAND ARGS
    std::string help_text;                     // for Subcommand::Help
};

// Throws UsageError with a message for the user (exit code 2).
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// `args` excludes argv[0]. `pid1_no_args`: started as PID 1 with no
// arguments (the kernel running /init): acts as `run`.
CliOptions parse_cli(const std::vector<std::string>& args);

std::string main_usage();
std::string subcommand_usage(Subcommand c);

// -c, else $SUPERVISOR_CONFIG, else ./supervisor.toml, else
// /etc/supervisor/supervisor.toml (the first that exists; the last if none does).
std::string resolve_config_path(const CliOptions& opts);

}  // namespace sv
