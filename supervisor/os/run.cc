// `supervisor run`: see run.h.
#include "run.h"

#include <ev.h>

#include <cstdio>

#include "config_file.h"
#include "init.h"
#include "mounts.h"
#include "rlimits.h"
#include "shell.h"
#include "single_command.h"

namespace sv {

int run(const RunOptions& options) {
    // From the first instruction until the watchers exist, a SIGTERM must
    // neither be lost (as PID 1 an unhandled signal is simply dropped) nor
    // kill us (as a plain process): keep such signals pending until then.
    // -- COMMAND alone: single-command mode; with -c FILE, the main command.
    const bool single = !options.command_argv.empty() && options.config_path.empty();
    block_handled_signals(single ? RunMode::SingleCommand : RunMode::Config);
    Config config;
    if (single) {
        config = single_command_config({.argv = options.command_argv,
                                        .grace = options.grace,
                                        .stop_signal = options.stop_signal,
                                        .health_listen = options.health_listen});
    } else {
        try {
            config = load_config_file(resolve_config_path(options.config_path));
        } catch (const ConfigError& e) {
            // A machine's init must not exit (the kernel would panic): it
            // says why on the console and powers off.
            if (surely_machine_init()) init_fatal(e.what());
            std::fprintf(stderr, "%s\n", e.what());
            return 2;
        }
        if (options.health_listen) config.supervisor.health_listen = *options.health_listen;
        if (!options.command_argv.empty())
            add_main_command(config, {.argv = options.command_argv,
                                      .grace = options.grace,
                                      .stop_signal = options.stop_signal});
    }
    if (options.log_format) config.supervisor.log_format = *options.log_format;

    prepare_process();
    if (!config.supervisor.hostname.empty() && surely_machine_init())
        (void)set_hostname(config.supervisor.hostname);
    std::vector<Limit> inherited_limits = raise_own_limits();
    // Not the default loop: that one installs its own SIGCHLD handler and
    // reaps children itself; the shell reads signals from a signalfd and
    // drains the children (shell.h). EVFLAG_NOENV: LIBEV_FLAGS, meant for
    // whatever runs under us, never picks our backend (and libev's check of
    // it, four id system calls, is skipped).
    struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
    if (!loop) {
        if (surely_machine_init())
            init_fatal("supervisor: fatal: cannot initialise the event loop");
        std::fprintf(stderr, "supervisor: fatal: cannot initialise the event loop\n");
        return 1;
    }
    const OnExit on_exit = config.supervisor.on_exit;
    ShellOptions shell;
    shell.mode = single ? RunMode::SingleCommand : RunMode::Config;
    if (!single) shell.config_path = config.file;
    shell.health_listen = options.health_listen;
    shell.log_format = options.log_format;
    shell.control_socket = options.control_socket;
    shell.inherited_limits = std::move(inherited_limits);
    const int code = run_on_loop(loop, std::move(config), std::move(shell));
    final_power_action(on_exit);
    return code;
}

}  // namespace sv
