// `supervisor status`: one GET /status to a running supervisor, printed as
// a table (or as the raw JSON with --json).
//
// The request itself is http_client.h's: blocking, bounded by one overall
// 5 s deadline, so a supervisor that accepts but never answers cannot hang a
// script. The address comes from --addr or from the configuration's
// health_listen; a wildcard listen address is reached through the matching
// loopback address.
//
// It asks the control socket first, and the HTTP endpoint when the socket
// cannot be reached (or with --addr).
//
// Exit codes (as every control command): 0 printed; 1 a bad answer; 2 usage
// or configuration error, or an unknown service; 3 the supervisor cannot be
// reached (nothing listens, the endpoint is off).
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "commands.h"
#include "control_client.h"
#include "http_client.h"
#include "json_read.h"
#include "status_render.h"
#include "suggest.h"

namespace sv {

namespace {

constexpr Duration kTimeout{5000};

}  // namespace

namespace {

// The document printed as asked: raw (--json), or as the table.
int print_status(const std::string& body, const std::string& where,
                 const std::vector<std::string>& names, bool json) {
    std::optional<Snapshot> snap = parse_status_json(body);
    if (!snap) {
        std::fprintf(stderr, "supervisor: %s answered something other than a status document\n",
                     where.c_str());
        return 1;
    }
    if (!names.empty()) {  // the HTTP endpoint has all of them: keep those asked for
        std::vector<ServiceSnapshot> chosen;
        for (const std::string& n : names) {
            bool found = false;
            for (const ServiceSnapshot& svc : snap->services)
                if (svc.name == n) {
                    chosen.push_back(svc);
                    found = true;
                }
            if (!found) {
                std::vector<std::string_view> known;
                for (const ServiceSnapshot& svc : snap->services) known.push_back(svc.name);
                std::fprintf(stderr, "supervisor: unknown service '%s'%s\n", n.c_str(),
                             did_you_mean(n, known).c_str());
                return 2;
            }
        }
        snap->services = std::move(chosen);
    }
    if (json) {
        std::string out = names.empty() ? body : render_status_json(*snap);
        if (!out.empty() && out.back() != '\n') out += '\n';
        std::fputs(out.c_str(), stdout);
    } else {
        std::fputs(render_status_table(*snap).c_str(), stdout);
    }
    return 0;
}

int status_over_http(const CliOptions& opts) {
    int exit_code = 0;
    const std::optional<HttpTarget> target = find_endpoint(
        {.addr = opts.addr, .config_path = opts.config_path, .default_without_file = true},
        exit_code);
    if (!target) return exit_code == 1 ? 3 : exit_code;  // the endpoint is off: unreachable
    const char* where = target->where.c_str();
    HttpResult a = http_get(*target, "/status", "application/json", kTimeout);
    if (a.outcome == HttpResult::Outcome::Unreachable) return unreachable(where, a.error);
    if (a.outcome == HttpResult::Outcome::NoAnswer) {  // reached: a failure, not exit 3
        std::fprintf(stderr, "supervisor: %s: %s\n", where, a.error.c_str());
        return 1;
    }
    if (a.outcome == HttpResult::Outcome::NotHttp) {
        std::fprintf(stderr, "supervisor: %s did not answer in HTTP\n", where);
        return 1;
    }
    if (a.status != 200) {
        std::fprintf(stderr, "supervisor: %s answered \"%s\" to GET /status\n", where,
                     a.status_text.c_str());
        return 1;
    }
    return print_status(a.body, where, opts.names, opts.json);
}

}  // namespace

// The control socket first (it knows the services by name and needs no
// network), else the HTTP endpoint; --addr asks the endpoint only.
int run_status(const CliOptions& opts) {
    if (!opts.addr.empty()) return status_over_http(opts);
    std::string error;
    int code = 0;
    const std::string socket = find_control_socket({opts.socket, opts.config_path}, error, code);
    if (socket.empty() && code == 2) {
        std::fprintf(stderr, "supervisor: %s\n", error.c_str());
        return 2;
    }
    if (!socket.empty()) {
        ControlRequest r;
        r.verb = ControlVerb::Status;
        r.operands = opts.names;
        std::vector<std::string> lines;
        const bool explicit_socket = !opts.socket.empty();
        code = control_call(socket, r, &lines, /*quiet_unreachable=*/!explicit_socket);
        if (code != 3 || explicit_socket) {
            if (code != 0) return code;
            std::string body;
            for (const std::string& l : lines) body += l + "\n";
            return print_status(body, socket, {}, opts.json);
        }
    }
    return status_over_http(opts);
}

}  // namespace sv
