// supervisor: argv -> subcommand. The only catch-all; everything else
// returns exit codes (SPEC §4).
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli.h"
#include "commands.h"
#include "event_loop.h"
#include "version.h"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        sv::CliOptions opts;
        // The kernel runs /init with no arguments: act as `supervisor run`.
        if (args.empty() && ::getpid() == 1) {
            opts.command = sv::Subcommand::Run;
        } else {
            opts = sv::parse_cli(args);
        }
        switch (opts.command) {
            case sv::Subcommand::Help:
                std::fputs(opts.help_text.c_str(), stdout);
                return 0;
            case sv::Subcommand::Version:
                std::printf("supervisor %s\n", SUPERVISOR_VERSION);
                return 0;
            case sv::Subcommand::Check:
                return sv::run_check(opts);
            case sv::Subcommand::Graph:
                return sv::run_graph(opts);
            case sv::Subcommand::Status:
                return sv::run_status(opts);
            case sv::Subcommand::Run:
                return sv::run_command(opts);
        }
    } catch (const sv::UsageError& e) {
        std::fprintf(stderr, "supervisor: %s\nTry 'supervisor --help'.\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "supervisor: fatal: %s\n", e.what());
        return 1;
    }
    return 1;
}
