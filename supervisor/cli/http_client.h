// The client side of the health endpoint, for `supervisor status` and
// `supervisor probe`: one blocking HTTP GET to a running supervisor, bounded
// by one overall deadline.
//
// Both commands are short-lived and run from scripts, container engines'
// healthchecks and kubelets' exec probes, so nothing here may hang: the
// socket is non-blocking and every wait (connect, send, each read) is a
// poll(2) against the same deadline, so a supervisor that accepts but never
// answers costs at most the timeout. Numeric addresses are parsed without
// getaddrinfo, so the static binary needs no name service for them; only a
// name ("localhost") goes through the resolver.
//
// Where to ask is decided once for both commands: --addr when given, else
// the configuration's health_listen (the file found as `run` finds it). A
// wildcard listen address ("0.0.0.0:9180", ":9180", "[::]:9180") is reached
// on the loopback address of its family.
#pragma once

#include <optional>
#include <string>

#include "duration.h"

namespace sv {

// An address to connect to, as the user will read it in messages.
struct HttpTarget {
    std::string host;   // without brackets; a wildcard already replaced by loopback
    std::string port;   // digits
    std::string where;  // "127.0.0.1:9180", "[::1]:9180"
};

// "HOST:PORT" as health_listen or --addr write it -> where to connect.
// nullopt when it is not a HOST:PORT.
std::optional<HttpTarget> http_target(const std::string& address);

// How `status` and `probe` find the endpoint.
struct EndpointChoice {
    std::string addr;         // --addr, empty when not given
    std::string config_path;  // -c FILE, empty when not given
    // With neither --addr nor -c, and no configuration file where `run`
    // would look: the default health_listen instead of an error (probe: a
    // container started with `run -- COMMAND --health-listen` has no file).
    bool default_without_file = false;
};

// The target, or nullopt after printing "supervisor: ..." on stderr and
// setting `exit_code`: 2 for a configuration or address error, 1 when the
// configuration turns the endpoint off (health_listen = "").
std::optional<HttpTarget> find_endpoint(const EndpointChoice& choice, int& exit_code);

struct HttpResult {
    enum class Outcome {
        Unreachable,  // no connection: `error` says why
        NoAnswer,     // connected, but no whole answer in time (or the link broke)
        NotHttp,      // something answered, not in HTTP
        Answered,     // `status`, `status_text` and `body` are set
    };
    Outcome outcome = Outcome::Unreachable;
    std::string error;        // "Connection refused", "no answer within 5s"
    int status = 0;           // 200; 0 when the status line has no 3-digit code
    std::string status_text;  // "200 OK": the status line after the version
    std::string body;         // trimmed to Content-Length when there is one
};

// GET `path` (with its query) from `target`, everything done before
// `timeout` has passed since the call. `accept` is the Accept header's value.
HttpResult http_get(const HttpTarget& target, const std::string& path, const std::string& accept,
                    Duration timeout);

}  // namespace sv
