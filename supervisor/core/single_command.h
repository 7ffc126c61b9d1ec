// `supervisor run -- COMMAND`: the configuration of single-command mode,
// the drop-in for tini and dumb-init. COMMAND is one critical service named
// after its program, with its output inherited, never restarted, and no
// health endpoint unless asked for.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config.h"

namespace sv {

struct SingleCommandOptions {
    std::vector<std::string> argv;             // COMMAND and its arguments
    std::optional<Duration> grace;             // --grace (default: stop_grace's 10s)
    std::optional<int> stop_signal;            // --stop-signal (default SIGTERM)
    std::optional<std::string> health_listen;  // --health-listen (default: off)
};

// The shutdown cap is 2 × grace + 5 s: the grace is the user's to choose,
// and the cap only guards against a process that survives SIGKILL (stuck in
// the kernel).
Config single_command_config(const SingleCommandOptions& options);

}  // namespace sv
