// supervisor: argv -> subcommand. The only catch-all; everything else
// returns exit codes (docs/reference.md).
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli.h"
#include "commands.h"
#include "init.h"
#include "mounts.h"
#include "version.h"

namespace {

// Neither a subcommand nor an option: what the kernel hands init from its
// command line (words without '=' that it did not recognise).
bool looks_like_kernel_arguments(const std::vector<std::string>& args) {
    const std::string& first = args.front();
    return !sv::is_subcommand_word(first) && (first.empty() || first[0] != '-');
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        sv::CliOptions opts;
        // The kernel runs /init with no arguments, or with the words of its
        // command line it did not understand ("single", …): act as
        // `supervisor run` either way.
        if (::getpid() == 1 && (args.empty() || looks_like_kernel_arguments(args))) {
            if (!args.empty())
                std::fprintf(stderr,
                             "supervisor: ignoring arguments from the kernel command line\n");
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
            case sv::Subcommand::Probe:
                return sv::run_probe(opts);
            case sv::Subcommand::Run: {
                // Nothing left for exit() to do but free memory: see
                // run_on_loop() in os/shell.h.
                const int code = sv::run_run(opts);
                std::fflush(nullptr);
                ::_exit(code);
            }
            case sv::Subcommand::Start:
            case sv::Subcommand::Stop:
            case sv::Subcommand::Restart:
            case sv::Subcommand::Signal:
            case sv::Subcommand::Reload:
            case sv::Subcommand::Logs:
            case sv::Subcommand::Wait:
            case sv::Subcommand::Shutdown:
                return sv::run_control(opts);
        }
    } catch (const sv::UsageError& e) {
        std::fprintf(stderr, "supervisor: %s\nTry 'supervisor --help'.\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        // The machine's init must not exit (the kernel would panic): say it
        // on the console and power off instead.
        if (sv::surely_machine_init())
            sv::init_fatal(std::string("supervisor: fatal: ") + e.what());
        std::fprintf(stderr, "supervisor: fatal: %s\n", e.what());
        return 1;
    }
    return 1;
}
