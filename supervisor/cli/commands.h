// The subcommands: each takes the parsed options, writes to stdout/stderr,
// and returns the process exit code (docs/reference.md).
#pragma once

#include "cli.h"

namespace sv {

// `supervisor start|stop|restart|signal|reload|logs|wait|shutdown`: one
// request to the control socket (control_client.h).
int run_control(const CliOptions& opts);

// `supervisor run`: hands the options to the OS layer's run() (os/run.h).
int run_run(const CliOptions& opts);

// `supervisor check`: validate, print service count, start layers and the
// worst-case shutdown time; --grace-budget: exit 1 when the worst case exceeds it.
int run_check(const CliOptions& opts);

// `supervisor graph`: the dependency graph as Graphviz DOT.
int run_graph(const CliOptions& opts);

// `supervisor status`: GET /status from a running supervisor, print the
// table (or the raw JSON with --json).
int run_status(const CliOptions& opts);

// `supervisor probe [livez|readyz|healthz]`: GET /ENDPOINT?verbose; exit 0
// on 200 (printing nothing), 1 otherwise (the answer on stdout, or why it
// could not be reached on stderr). For HEALTHCHECK and exec probes.
int run_probe(const CliOptions& opts);

}  // namespace sv
