// `supervisor probe`: the health check a container engine or a kubelet runs
// inside the container, without curl or wget in the image.
//
// Docker's HEALTHCHECK, podman's --health-cmd and Kubernetes' exec probes
// judge a command by its exit status alone (0 healthy, 1 not), and keep its
// output for `docker inspect` / `podman inspect`. So a 200 prints nothing,
// and anything else prints what helps: the ?verbose list of the endpoint
// ("[-]api not ready: starting") on stdout, or why the endpoint could not be
// reached on stderr. 2 stays the usage-error code of every subcommand
// (Docker reserves it, but a usage error is a broken HEALTHCHECK line, not
// a state of the container). The request is http_client.h's, bounded by
// --timeout (default 5s) so the engine's own timeout never has to kill it.
#include <cstdio>
#include <optional>
#include <string>

#include "cli.h"
#include "commands.h"
#include "http_client.h"

namespace sv {

namespace {

constexpr Duration kDefaultTimeout{5000};

}  // namespace

int run_probe(const CliOptions& opts) {
    int exit_code = 0;
    const std::optional<HttpTarget> target = find_endpoint(
        {.addr = opts.addr, .config_path = opts.config_path, .default_without_file = true},
        exit_code);
    if (!target) return exit_code;
    const std::string path = "/" + opts.probe_endpoint + "?verbose";
    const HttpResult a =
        http_get(*target, path, "text/plain", opts.timeout.value_or(kDefaultTimeout));
    switch (a.outcome) {
        case HttpResult::Outcome::Unreachable:
        case HttpResult::Outcome::NoAnswer:
            std::fprintf(stderr, "supervisor: cannot reach %s: %s\n", target->where.c_str(),
                         a.error.c_str());
            return 1;
        case HttpResult::Outcome::NotHttp:
            std::fprintf(stderr, "supervisor: %s did not answer in HTTP\n", target->where.c_str());
            return 1;
        case HttpResult::Outcome::Answered:
            break;
    }
    if (a.status == 200) return 0;
    if (a.body.empty()) {
        std::fprintf(stderr, "supervisor: %s answered \"%s\" to GET %s\n", target->where.c_str(),
                     a.status_text.c_str(), path.c_str());
    } else {
        std::fputs(a.body.c_str(), stdout);
        if (a.body.back() != '\n') std::fputc('\n', stdout);
    }
    return 1;
}

}  // namespace sv
