// `supervisor run`, `supervisor check` and `supervisor graph`.
//
// Both load the configuration exactly as `run` would (parse_config() already
// rejects unknown dependencies and cycles), so "check passes" means "run will
// accept it". The report text itself is a pure function in graph.cc, tested
// against a golden file; this file only chooses streams and exit codes:
// 0 valid, 1 over the --grace-budget, 2 invalid or unreadable.
// (`supervisor status` lives in status_client.cc.)
#include "commands.h"

#include <cstdio>
#include <optional>

#include "config_file.h"
#include "graph.h"
#include "run.h"

namespace sv {

namespace {

// The configuration and its graph, or nullopt after printing the error.
struct Loaded {
    Config config;
    Graph graph;
};

std::optional<Loaded> load(const CliOptions& opts) {
    try {
        Config config = load_config_file(resolve_config_path(opts.config_path));
        Graph graph(config);
        return Loaded{std::move(config), std::move(graph)};
    } catch (const ConfigError& e) {
        // Exactly FILE:LINE:COLUMN: message, as compilers print it, so
        // editors and CI annotations can jump to the spot.
        std::fprintf(stderr, "%s\n", e.what());
        return std::nullopt;
    }
}

}  // namespace

int run_run(const CliOptions& opts) {
    RunOptions r;
    r.config_path = opts.config_path;
    r.command_argv = opts.command_argv;
    r.health_listen = opts.health_listen;
    r.log_format = opts.log_format;
    r.grace = opts.grace;
    r.stop_signal = opts.stop_signal;
    r.control_socket = opts.control_socket;
    return run(r);
}

int run_check(const CliOptions& opts) {
    std::optional<Loaded> loaded = load(opts);
    if (!loaded) return 2;
    std::fputs(format_check_report(loaded->config, loaded->graph).c_str(), stdout);

    if (opts.grace_budget) {
        const Duration worst = loaded->graph.worst_case_shutdown(loaded->config);
        const std::string budget = format_duration(*opts.grace_budget);
        if (worst > *opts.grace_budget) {
            std::fflush(stdout);
            std::fprintf(stderr,
                         "supervisor: worst-case shutdown %s exceeds the grace budget of %s "
                         "(terminationGracePeriodSeconds); lower stop_grace/drain_delay or "
                         "raise the budget\n",
                         format_duration(worst).c_str(), budget.c_str());
            return 1;
        }
        std::printf("fits the grace budget of %s\n", budget.c_str());
    }
    return 0;
}

int run_graph(const CliOptions& opts) {
    std::optional<Loaded> loaded = load(opts);
    if (!loaded) return 2;
    std::fputs(loaded->graph.dot(loaded->config).c_str(), stdout);
    return 0;
}

}  // namespace sv
