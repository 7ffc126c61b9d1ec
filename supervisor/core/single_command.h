// `supervisor run -- COMMAND`: the configuration of single-command mode,
// the drop-in for tini and dumb-init. COMMAND is one critical service named
// after its program, with its output inherited, never restarted, and no
// health endpoint unless asked for.
//
// `supervisor run -c FILE -- COMMAND` (s6-overlay's /init with the image's
// CMD) keeps the file's services and adds COMMAND as the main command: the
// same kind of service, marked `main_command`, which the graph makes depend
// on every other service. So it starts once all of them are ready, stops
// first (SIGTERM reaches it after drain_delay, then the services stop in
// reverse order), and a critical service that ends stops it. When it ends
// the run ends with its status, as in single-command mode.
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

// Adds the main command (options.argv; grace and stop signal as above) to a
// loaded configuration. It is named after its program, with "-command"
// appended while that name is taken by a service. Its environment is the
// supervisor's plus what `[supervisor] env_file` sets (already read).
void add_main_command(Config& config, const SingleCommandOptions& options);

}  // namespace sv
