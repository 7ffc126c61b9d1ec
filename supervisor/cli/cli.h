// The command line (docs/reference.md): argv -> one subcommand with its
// options. Pure parsing plus the usage texts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "duration.h"

namespace sv {

enum class Subcommand {
    Run,
    Check,
    Status,
    Probe,
    Graph,
    Help,
    Version,
    // The control commands (docs/control.md):
    Start,
    Stop,
    Restart,
    Signal,
    Reload,
    Logs,
    Wait,
    Shutdown,
};

struct CliOptions {
    Subcommand command = Subcommand::Run;
    std::string config_path;                    // -c FILE, empty when not given
    std::optional<std::string> health_listen;   // --health-listen
    std::optional<LogFormat> log_format;        // --log-format
    std::optional<Duration> grace;              // run --grace
    std::optional<int> stop_signal;             // run --stop-signal
    std::optional<Duration> grace_budget;       // check --grace-budget
    std::string addr;                           // status, probe --addr
    std::string probe_endpoint = "healthz";     // probe livez|readyz|healthz
    std::optional<Duration> timeout;            // probe --timeout
    bool json = false;                          // status --json
    std::vector<std::string> command_argv;      // run -- COMMAND ARGS
    std::vector<std::string> names;             // status, control commands: NAME...
    std::string signal;                         // signal SIG
    std::string socket;                         // --socket PATH
    bool no_wait = false;                       // --no-wait
    bool follow = false;                        // logs -f
    std::optional<std::size_t> lines;           // logs -n N
    std::optional<std::string> control_socket;  // run --control-socket PATH
    std::string help_text;                      // for Subcommand::Help
};

// Throws UsageError with a message for the user (exit code 2).
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// `args` excludes argv[0].
CliOptions parse_cli(const std::vector<std::string>& args);

// Is `word` a subcommand (or one of the words for help and version)?
bool is_subcommand_word(const std::string& word);

}  // namespace sv
