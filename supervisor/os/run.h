// `supervisor run`: from the command line's options to an exit code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "duration.h"

namespace sv {

struct RunOptions {
    std::string config_path;                    // -c FILE (empty: the lookup order)
    std::vector<std::string> command_argv;      // -- COMMAND ARGS: single-command mode, or
                                                // the main command with -c FILE
    std::optional<std::string> health_listen;   // --health-listen
    std::optional<LogFormat> log_format;        // --log-format
    std::optional<Duration> grace;              // --grace
    std::optional<int> stop_signal;             // --stop-signal
    std::optional<std::string> control_socket;  // --control-socket
};

// Loads the configuration (or builds single-command mode's), prepares the
// process (PID 1 or subreaper duties), runs the loop, and returns the exit
// code (docs/lifecycle.md); 2 when the configuration is invalid. As PID 1
// with on_exit = poweroff|reboot it does not return.
int run(const RunOptions& options);

}  // namespace sv
