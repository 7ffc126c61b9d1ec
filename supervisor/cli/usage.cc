// The usage texts: one per subcommand, and the overview.
#include "usage.h"

#include <string>

namespace sv {

namespace {

const char* kMainUsage =
    "supervisor - a small process supervisor: PID 1 of a container or VM, or a\n"
    "developer's whole stack in one terminal.\n"
    "\n"
    "Usage:\n"
    "  supervisor run   [-c FILE] [--health-listen ADDR] [--log-format text|json]\n"
    "  supervisor run   [--grace DUR] [--stop-signal SIG] [--health-listen ADDR] -- COMMAND "
    "[ARG...]\n"
    "  supervisor run   -c FILE [--grace DUR] [--stop-signal SIG] -- COMMAND [ARG...]\n"
    "  supervisor check [-c FILE] [--grace-budget DUR]\n"
    "  supervisor status [NAME...] [-c FILE | --socket PATH | --addr HOST:PORT] [--json]\n"
    "  supervisor start   [--no-wait] [--timeout DUR] NAME...\n"
    "  supervisor stop    [--no-wait] NAME...\n"
    "  supervisor restart [--no-wait] [--timeout DUR] NAME...\n"
    "  supervisor signal  SIG NAME...\n"
    "  supervisor reload\n"
    "  supervisor logs    [-f] [-n N] [NAME...]\n"
    "  supervisor wait    [--timeout DUR] [NAME...]\n"
    "  supervisor shutdown\n"
    "  supervisor probe [livez|readyz|healthz] [-c FILE | --addr HOST:PORT] [--timeout DUR]\n"
    "  supervisor graph [-c FILE]\n"
    "  supervisor --version | --help | <subcommand> --help\n"
    "\n"
    "The commands from status to shutdown talk to a running supervisor through its\n"
    "control socket (-c FILE's control_socket, or --socket PATH).\n"
    "Without -c the configuration is $SUPERVISOR_CONFIG, then ./supervisor.toml,\n"
    "then /etc/supervisor/supervisor.toml. Started as PID 1 with no arguments it\n"
    "acts as `supervisor run`.\n"
    "\n"
    "Exit codes: 0 clean stop, N a critical service's status, 1 could not start or\n"
    "had to SIGKILL, 2 usage or configuration error; `run [-c FILE] -- CMD` returns\n"
    "CMD's status.\n"
    "Control commands: 0 done, 1 failed, 2 usage or unknown service, 3 unreachable.\n";

const char* kRunUsage =
    "Usage:\n"
    "  supervisor run [-c FILE] [--health-listen ADDR] [--log-format text|json]\n"
    "  supervisor run [--grace DUR] [--stop-signal SIG] [--health-listen ADDR] -- COMMAND "
    "[ARG...]\n"
    "  supervisor run -c FILE [--grace DUR] [--stop-signal SIG] -- COMMAND [ARG...]\n"
    "\n"
    "Start the services of the configuration in dependency order and supervise them\n"
    "until SIGTERM or SIGINT, then stop them in reverse order. With `-- COMMAND` run\n"
    "that one command as tini would: signals forwarded, its exit status returned.\n"
    "With both, COMMAND is the main command: it starts once every service is ready,\n"
    "with the terminal; when it exits the services stop and its status is returned.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE         configuration file (default: see `supervisor --help`)\n"
    "  --health-listen ADDR      HTTP endpoint address, overrides health_listen (\"\" = off)\n"
    "  --log-format text|json    format of the supervisor's own messages on stderr\n"
    "  --grace DUR               COMMAND's time between the stop signal and SIGKILL\n"
    "                            (default 10s)\n"
    "  --stop-signal SIG         COMMAND's stop signal instead of SIGTERM\n"
    "  --control-socket PATH     single-command mode: listen for control commands here\n"
    "  -h, --help                show this help\n";

const char* kCheckUsage =
    "Usage: supervisor check [-c FILE] [--grace-budget DUR]\n"
    "\n"
    "Validate the configuration and print the number of services, the start order\n"
    "as layers, and the worst-case shutdown time (drain_delay plus the longest chain\n"
    "of stop_grace in stop order, capped by shutdown_timeout).\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      configuration file\n"
    "  --grace-budget DUR     exit 1 when the worst case exceeds DUR (Kubernetes'\n"
    "                         terminationGracePeriodSeconds)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit codes: 0 valid, 1 over the grace budget, 2 invalid.\n";

const char* kStatusUsage =
    "Usage: supervisor status [NAME...] [-c FILE | --socket PATH | --addr HOST:PORT] [--json]\n"
    "\n"
    "Ask a running supervisor and print a table of its services (or of NAME...):\n"
    "NAME, STATE, PID, READY, RESTARTS, UPTIME, LAST EXIT. It asks the control\n"
    "socket, else (or with --addr) the HTTP endpoint's /status.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      the supervisor of this configuration\n"
    "  --socket PATH          ask this control socket\n"
    "  --addr HOST:PORT       ask this HTTP endpoint\n"
    "  --json                 print the raw JSON\n"
    "  -h, --help             show this help\n";

const char* kProbeUsage =
    "Usage: supervisor probe [livez|readyz|healthz] [-c FILE | --addr HOST:PORT]\n"
    "                        [--timeout DUR]\n"
    "\n"
    "Ask a running supervisor's endpoint (GET /healthz?verbose by default), for a\n"
    "container's HEALTHCHECK or an exec probe without curl:\n"
    "  HEALTHCHECK CMD [\"/usr/bin/supervisor\", \"probe\"]\n"
    "Prints nothing when the answer is 200; otherwise the answer (which services\n"
    "are not ready) on stdout, or why the endpoint could not be reached on stderr.\n"
    "The address is --addr, else health_listen of the configuration, else\n"
    "127.0.0.1:9180 when there is no configuration file.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      read health_listen from this configuration\n"
    "  --addr HOST:PORT       ask this address instead\n"
    "  --timeout DUR          give up after this long (default 5s)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit codes: 0 healthy (HTTP 200), 1 not healthy or unreachable, 2 usage error.\n";

const char* kGraphUsage =
    "Usage: supervisor graph [-c FILE]\n"
    "\n"
    "Print the dependency graph as Graphviz DOT (edges from a service to what it\n"
    "depends on), e.g. `supervisor graph | dot -Tsvg > graph.svg`.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      configuration file\n"
    "  -h, --help             show this help\n";

// The control commands share their options.
const char* kControlOptions =
    "\n"
    "Options:\n"
    "  -c, --config FILE      the supervisor of this configuration (its control_socket)\n"
    "  --socket PATH          the control socket to use\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit codes: 0 done, 1 failed (the message says which service and why), 2 usage\n"
    "error or unknown service, 3 the supervisor cannot be reached.\n";

const char* kStartUsage =
    "Usage: supervisor start [--no-wait] [--timeout DUR] NAME...\n"
    "\n"
    "Start the services, and first what they need that is down, in dependency\n"
    "order; wait until they are ready (a oneshot: completed).\n"
    "  --no-wait              return once the start is under way\n"
    "  --timeout DUR          give up waiting after DUR (exit 1)\n";

const char* kStopUsage =
    "Usage: supervisor stop [--no-wait] NAME...\n"
    "\n"
    "Stop the services, and first their running dependents; they stay stopped\n"
    "until started again. Waits until they are down.\n"
    "  --no-wait              return once the stop is under way\n";

const char* kRestartUsage =
    "Usage: supervisor restart [--no-wait] [--timeout DUR] NAME...\n"
    "\n"
    "Stop the services and their running dependents, then start them all again;\n"
    "wait until the services are ready.\n"
    "  --no-wait              return once the restart is under way\n"
    "  --timeout DUR          give up waiting after DUR (exit 1)\n";

const char* kSignalUsage =
    "Usage: supervisor signal SIG NAME...\n"
    "\n"
    "Send SIG (HUP, SIGUSR1, RTMIN+3, a number) to each service's process group.\n";

const char* kReloadUsage =
    "Usage: supervisor reload\n"
    "\n"
    "Re-read the configuration file and apply the difference: removed services\n"
    "stop, changed ones restart, added ones start, the others are not touched.\n"
    "An invalid file changes nothing (exit 2).\n";

const char* kLogsUsage =
    "Usage: supervisor logs [-f] [-n N] [NAME...]\n"
    "\n"
    "Print the services' recent output, kept in memory (log = \"prefix\").\n"
    "  -f, --follow           then follow new lines as they come\n"
    "  -n, --lines N          only the last N lines\n";

const char* kWaitUsage =
    "Usage: supervisor wait [--timeout DUR] [NAME...]\n"
    "\n"
    "Wait until the services (default: all) are ready.\n"
    "  --timeout DUR          give up after DUR (exit 1)\n";

const char* kShutdownUsage =
    "Usage: supervisor shutdown\n"
    "\n"
    "Shut the supervisor down gracefully, as SIGTERM does.\n";

}  // namespace

std::string main_usage() {
    return kMainUsage;
}

std::string subcommand_usage(Subcommand c) {
    switch (c) {
        case Subcommand::Run:
            return kRunUsage;
        case Subcommand::Check:
            return kCheckUsage;
        case Subcommand::Status:
            return kStatusUsage;
        case Subcommand::Probe:
            return kProbeUsage;
        case Subcommand::Graph:
            return kGraphUsage;
        case Subcommand::Start:
            return std::string(kStartUsage) + kControlOptions;
        case Subcommand::Stop:
            return std::string(kStopUsage) + kControlOptions;
        case Subcommand::Restart:
            return std::string(kRestartUsage) + kControlOptions;
        case Subcommand::Signal:
            return std::string(kSignalUsage) + kControlOptions;
        case Subcommand::Reload:
            return std::string(kReloadUsage) + kControlOptions;
        case Subcommand::Logs:
            return std::string(kLogsUsage) + kControlOptions;
        case Subcommand::Wait:
            return std::string(kWaitUsage) + kControlOptions;
        case Subcommand::Shutdown:
            return std::string(kShutdownUsage) + kControlOptions;
        default:
            return kMainUsage;
    }
}

}  // namespace sv
