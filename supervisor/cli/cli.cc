#include "cli.h"

#include "address.h"
#include "signals.h"
#include "usage.h"

namespace sv {

namespace {

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
    {"probe", Subcommand::Probe},       {"start", Subcommand::Start},
    {"stop", Subcommand::Stop},         {"restart", Subcommand::Restart},
    {"signal", Subcommand::Signal},     {"reload", Subcommand::Reload},
    {"logs", Subcommand::Logs},         {"wait", Subcommand::Wait},
    {"shutdown", Subcommand::Shutdown},
};

bool is_control(Subcommand c) {
    switch (c) {
        case Subcommand::Start:
        case Subcommand::Stop:
        case Subcommand::Restart:
        case Subcommand::Signal:
        case Subcommand::Reload:
        case Subcommand::Logs:
        case Subcommand::Wait:
        case Subcommand::Shutdown:
            return true;
        default:
            return false;
    }
}

const char* command_word(Subcommand c) {
    for (const Word& w : kWords)
        if (w.command == c) return w.word;
    return "";
}

}  // namespace

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
        o.help_text = main_usage();
        return o;
    }

    const std::string cmd = command_word(o.command);
    auto allowed = [&](const std::string& opt, std::initializer_list<Subcommand> where) {
        for (Subcommand s : where)
            if (s == o.command) return;
        throw UsageError("'" + cmd + "' does not take " + opt);
    };

    bool saw_separator = false;
    bool saw_endpoint = false;  // probe's one word
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
            if (!is_control(o.command))
                allowed(a, {Subcommand::Run, Subcommand::Check, Subcommand::Status,
                            Subcommand::Probe, Subcommand::Graph});
            o.config_path = take();
            if (o.config_path.empty()) throw UsageError("option " + a + " needs a file name");
        } else if (a == "--health-listen") {
            allowed(a, {Subcommand::Run});
            o.health_listen = take();
            // Checked as health_listen in a file is: a bad one is a usage
            // error before anything starts, not an endpoint quietly off.
            if (!o.health_listen->empty() &&
                !parse_host_port(*o.health_listen,
                                 {.allow_empty_host = true, .allow_port_zero = true}))
                throw UsageError("--health-listen: invalid address '" + *o.health_listen +
                                 "' (expected HOST:PORT, such as 127.0.0.1:9180, or \"\" for off)");
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
            allowed(a, {Subcommand::Status, Subcommand::Probe});
            o.addr = take();
        } else if (a == "--socket") {
            if (!is_control(o.command)) allowed(a, {Subcommand::Status});
            o.socket = take();
            if (o.socket.empty()) throw UsageError("option --socket needs a path");
        } else if (a == "--control-socket") {
            allowed(a, {Subcommand::Run});
            o.control_socket = take();
        } else if (a == "--no-wait") {
            allowed(a, {Subcommand::Start, Subcommand::Stop, Subcommand::Restart});
            if (has_inline) throw UsageError("--no-wait takes no value");
            o.no_wait = true;
        } else if (a == "-f" || a == "--follow") {
            allowed(a, {Subcommand::Logs});
            if (has_inline) throw UsageError("--follow takes no value");
            o.follow = true;
        } else if (a == "-n" || a == "--lines") {
            allowed(a, {Subcommand::Logs});
            const std::string v = take();
            if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
                throw UsageError(a + ": expected a number of lines, not '" + v + "'");
            o.lines = std::stoul(v);
        } else if (a == "--timeout") {
            allowed(a,
                    {Subcommand::Probe, Subcommand::Start, Subcommand::Restart, Subcommand::Wait});
            std::string v = take();
            o.timeout = parse_duration(v);
            if (!o.timeout) throw UsageError("--timeout: invalid duration '" + v + "'");
            if (o.timeout->count() <= 0) throw UsageError("--timeout must be more than 0");
        } else if (a == "--json") {
            allowed(a, {Subcommand::Status});
            if (has_inline) throw UsageError("--json takes no value");
            o.json = true;
        } else if (!a.empty() && a[0] == '-') {
            throw UsageError("'" + cmd + "': unknown option '" + a + "'");
        } else if (o.command == Subcommand::Signal && o.signal.empty()) {
            if (!parse_signal(a)) throw UsageError("'signal': unknown signal '" + a + "'");
            o.signal = a;
        } else if (is_control(o.command) && o.command != Subcommand::Reload &&
                   o.command != Subcommand::Shutdown) {
            o.names.push_back(a);
        } else if (o.command == Subcommand::Status) {
            o.names.push_back(a);
        } else if (o.command == Subcommand::Probe && !saw_endpoint) {
            if (a != "livez" && a != "readyz" && a != "healthz")
                throw UsageError("'probe': unknown endpoint '" + a +
                                 "' (livez, readyz or healthz)");
            o.probe_endpoint = a;
            saw_endpoint = true;
        } else {
            throw UsageError("'" + cmd + "': unexpected argument '" + a + "'" +
                             (o.command == Subcommand::Run ? " (put the command after --)" : ""));
        }
    }
    // `run -c FILE --` with nothing after it is the services alone: an
    // ENTRYPOINT [..., "--"] in an image whose CMD is empty.
    if (saw_separator && o.command_argv.empty() && o.config_path.empty())
        throw UsageError("'run --' needs a COMMAND");
    if (o.command_argv.empty() && (o.grace || o.stop_signal))
        throw UsageError("--grace and --stop-signal go with 'run -- COMMAND'");
    if ((o.command == Subcommand::Status || o.command == Subcommand::Probe) && !o.addr.empty() &&
        !o.config_path.empty())
        throw UsageError("'" + cmd + "' takes either -c FILE or --addr HOST:PORT, not both");
    if (!o.socket.empty() && (!o.config_path.empty() || !o.addr.empty()))
        throw UsageError("'" + cmd + "' takes one of -c FILE, --socket PATH and --addr HOST:PORT");
    const bool needs_names = o.command == Subcommand::Start || o.command == Subcommand::Stop ||
                             o.command == Subcommand::Restart || o.command == Subcommand::Signal;
    if (o.command == Subcommand::Signal && o.signal.empty())
        throw UsageError("'signal' needs a signal and at least one service name");
    if (needs_names && o.names.empty())
        throw UsageError("'" + cmd + "' needs at least one service name");
    if (o.control_socket && (o.command_argv.empty() || !o.config_path.empty()))
        throw UsageError(
            "--control-socket goes with 'run -- COMMAND' (a configuration has "
            "control_socket)");
    return o;
}

bool is_subcommand_word(const std::string& word) {
    for (const Word& w : kWords)
        if (word == w.word) return true;
    return false;
}

}  // namespace sv
