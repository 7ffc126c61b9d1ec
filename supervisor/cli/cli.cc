#include "cli.h"

#include "signals.h"

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
    "  supervisor check [-c FILE] [--grace-budget DUR]\n"
    "  supervisor status [-c FILE | --addr HOST:PORT] [--json]\n"
    "  supervisor graph [-c FILE]\n"
    "  supervisor --version | --help | <subcommand> --help\n"
    "\n"
    "Without -c the configuration is $SUPERVISOR_CONFIG, then ./supervisor.toml,\n"
    "then /etc/supervisor/supervisor.toml. Started as PID 1 with no arguments it\n"
    "acts as `supervisor run`.\n"
    "\n"
    "Exit codes: 0 clean stop, N a critical service's status, 1 could not start or\n"
    "had to SIGKILL, 2 usage or configuration error; `run -- CMD` returns CMD's status.\n";

const char* kRunUsage =
    "Usage:\n"
    "  supervisor run [-c FILE] [--health-listen ADDR] [--log-format text|json]\n"
    "  supervisor run [--grace DUR] [--stop-signal SIG] [--health-listen ADDR] -- COMMAND "
    "[ARG...]\n"
    "\n"
    "Start the services of the configuration in dependency order and supervise them\n"
    "until SIGTERM or SIGINT, then stop them in reverse order. With `-- COMMAND` run\n"
    "that one command as tini would: signals forwarded, its exit status returned.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE         configuration file (default: see `supervisor --help`)\n"
    "  --health-listen ADDR      HTTP endpoint address, overrides health_listen (\"\" = off)\n"
    "  --log-format text|json    format of the supervisor's own messages on stderr\n"
    "  --grace DUR               single-command mode: time between the stop signal and\n"
    "                            SIGKILL (default 10s)\n"
    "  --stop-signal SIG         single-command mode: signal sent instead of SIGTERM\n"
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
    "Usage: supervisor status [-c FILE | --addr HOST:PORT] [--json]\n"
    "\n"
    "Ask a running supervisor (its /status endpoint) and print a table of its\n"
    "services: NAME, STATE, PID, READY, RESTARTS, UPTIME, LAST EXIT.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      read health_listen from this configuration\n"
    "  --addr HOST:PORT       ask this address instead\n"
    "  --json                 print the raw JSON\n"
    "  -h, --help             show this help\n";

const char* kGraphUsage =
    "Usage: supervisor graph [-c FILE]\n"
    "\n"
    "Print the dependency graph as Graphviz DOT (edges from a service to what it\n"
    "depends on), e.g. `supervisor graph | dot -Tsvg > graph.svg`.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      configuration file\n"
    "  -h, --help             show this help\n";

// Every word the first argument may be, in one table.
struct Word {
    const char* word;
    Subcommand command;
};
constexpr Word kWords[] = {
    {"run", Subcommand::Run},           {"check", Subcommand::Check},
    {"status", Subcommand::Status},     {"graph", Subcommand::Graph},
    {"help", Subcommand::Help},         {"--help", Subcommand::Help},
    {"-h", Subcommand::Help},           {"version", Subcommand::Version},
    {"--version", Subcommand::Version}, {"-V", Subcommand::Version},
};

const char* command_word(Subcommand c) {
    for (const Word& w : kWords)
        if (w.command == c) return w.word;
    return "";
}

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
        case Subcommand::Graph:
            return kGraphUsage;
        default:
            return kMainUsage;
    }
}

CliOptions parse_cli(const std::vector<std::string>& args) {
    CliOptions o;
    if (args.empty()) throw UsageError("no subcommand given");
    const std::string& first = args[0];
    const Word* found = nullptr;
    for (const Word& w : kWords)
        if (first == w.word) found = &w;
    if (!found) {
        if (!first.empty() && first[0] == '-')
            throw UsageError("unknown option '" + first + "' (a subcommand comes first)");
        throw UsageError("unknown subcommand '" + first + "'");
    }
    o.command = found->command;
    if (o.command == Subcommand::Version) return o;
    if (o.command == Subcommand::Help) {
        o.help_text = kMainUsage;
        return o;
    }

    const std::string cmd = command_word(o.command);
    auto allowed = [&](const std::string& opt, std::initializer_list<Subcommand> where) {
        for (Subcommand s : where)
            if (s == o.command) return;
        throw UsageError("'" + cmd + "' does not take " + opt);
    };

    bool saw_separator = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        std::string a = args[i];
        if (a == "--") {
            allowed("'-- COMMAND'", {Subcommand::Run});
            saw_separator = true;
            o.command_argv.assign(args.begin() + static_cast<long>(i) + 1, args.end());
            break;
        }
        std::string value;
        bool has_inline = false;
        if (a.rfind("--", 0) == 0) {
            auto eq = a.find('=');
            if (eq != std::string::npos) {
                value = a.substr(eq + 1);
                a = a.substr(0, eq);
                has_inline = true;
            }
        }
        auto take = [&]() -> std::string {
            if (has_inline) return value;
            if (i + 1 >= args.size()) throw UsageError("option " + a + " needs a value");
            return args[++i];
        };
        if (a == "-h" || a == "--help") {
            o.help_text = subcommand_usage(o.command);
            o.command = Subcommand::Help;
            return o;
        } else if (a == "-c" || a == "--config") {
            allowed(a, {Subcommand::Run, Subcommand::Check, Subcommand::Status, Subcommand::Graph});
            o.config_path = take();
            if (o.config_path.empty()) throw UsageError("option " + a + " needs a file name");
        } else if (a == "--health-listen") {
            allowed(a, {Subcommand::Run});
            o.health_listen = take();
        } else if (a == "--log-format") {
            allowed(a, {Subcommand::Run});
            std::string v = take();
            if (v == "text")
                o.log_format = LogFormat::Text;
            else if (v == "json")
                o.log_format = LogFormat::Json;
            else
                throw UsageError("--log-format must be text or json, not '" + v + "'");
        } else if (a == "--grace") {
            allowed(a, {Subcommand::Run});
            std::string v = take();
            o.grace = parse_duration(v);
            if (!o.grace) throw UsageError("--grace: invalid duration '" + v + "'");
        } else if (a == "--stop-signal") {
            allowed(a, {Subcommand::Run});
            std::string v = take();
            o.stop_signal = parse_signal(v);
            if (!o.stop_signal) throw UsageError("--stop-signal: unknown signal '" + v + "'");
        } else if (a == "--grace-budget") {
            allowed(a, {Subcommand::Check});
            std::string v = take();
            o.grace_budget = parse_duration(v);
            if (!o.grace_budget) throw UsageError("--grace-budget: invalid duration '" + v + "'");
        } else if (a == "--addr") {
            allowed(a, {Subcommand::Status});
            o.addr = take();
        } else if (a == "--json") {
            allowed(a, {Subcommand::Status});
            if (has_inline) throw UsageError("--json takes no value");
            o.json = true;
        } else if (!a.empty() && a[0] == '-') {
            throw UsageError("'" + cmd + "': unknown option '" + a + "'");
        } else {
            throw UsageError("'" + cmd + "': unexpected argument '" + a + "'" +
                             (o.command == Subcommand::Run ? " (put the command after --)" : ""));
        }
    }
    if (saw_separator && o.command_argv.empty()) throw UsageError("'run --' needs a COMMAND");
    if (saw_separator && !o.config_path.empty())
        throw UsageError("'run' takes either -c FILE or -- COMMAND, not both");
    if (!saw_separator && (o.grace || o.stop_signal))
        throw UsageError("--grace and --stop-signal go with 'run -- COMMAND'");
    if (o.command == Subcommand::Status && !o.addr.empty() && !o.config_path.empty())
        throw UsageError("'status' takes either -c FILE or --addr HOST:PORT, not both");
    return o;
}

bool is_subcommand_word(const std::string& word) {
    for (const Word& w : kWords)
        if (word == w.word) return true;
    return false;
}

}  // namespace sv
