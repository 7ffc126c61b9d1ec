// Everything about starting a process that can be decided without the OS:
// the argv, where execve() will look for the program, the whole
// environment, the identity, the working directory and the stdio wiring.
// The core computes a SpawnPlan once per configuration (per service, and
// per exec probe); the OS layer (os/child.cc) carries it out, so the child
// between fork and exec only makes async-signal-safe calls on ready-made
// data.
//
// Environment precedence, lowest first: the supervisor's own environment
// (without its NOTIFY_SOCKET, which belongs to whoever started us), then
// HOME/USER/LOGNAME of the service's user, then the `env_file`s
// ([supervisor] ones first, then the service's, in list order), then the
// service's own NOTIFY_SOCKET (readiness by notify), then the service's `env`.
//
// The program is looked up as execvp(3) does, but in the PATH of the
// service's own environment: a name without a slash is tried in each PATH
// directory in order (an empty entry means the current directory).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.h"
#include "environment.h"
#include "identity.h"
#include "resource_limits.h"

namespace sv {

enum class StdioMode {
    Pipe,     // a pipe read by the supervisor (log = "prefix")
    Inherit,  // the supervisor's own descriptor
    Null,     // /dev/null
};

struct SpawnPlan {
    std::vector<std::string> argv;        // as configured
    std::vector<std::string> exec_paths;  // execve() candidates, in order
    Environment env;                      // sorted by key
    std::string workdir;                  // empty: the supervisor's
    Identity identity;
    std::string user, group;                 // as configured, for messages
    StdioMode stdin_mode = StdioMode::Null;  // Null or Inherit
    StdioMode stdout_mode = StdioMode::Pipe;
    StdioMode stderr_mode = StdioMode::Pipe;
    // setrlimit() before exec: the limits the supervisor was started with
    // where it raised its own (nofile), then the service's `limits`.
    std::vector<Limit> limits;
    std::optional<unsigned> umask;  // umask() before exec; unset: ours
    // Single-command mode and the main command: a process group in our session that takes the
    // terminal's foreground (as under tini), instead of a session of its own.
    bool foreground = false;
    std::string notify_socket;  // the service's $NOTIFY_SOCKET, or empty
    // Set when the service cannot be spawned at all ("unknown user 'app'",
    // "cannot create the notify socket: …"); the spawn fails with it.
    std::string error;
    bool operator==(const SpawnPlan&) const = default;
};

// What the OS layer learnt about one service before it runs: its identity
// (looked up once per configuration load) and its notify socket.
struct ServiceSetup {
    Identity identity;
    std::string notify_socket;
    std::string error;
};

// The environment of the whole run, captured at start and at each reload.
struct RunContext {
    bool pid1 = false;  // the supervisor is PID 1 (of its namespace)
    // environ, normalized once here and shared by every plan made from it
    // (environment.h), not copied for each of 500 services.
    Environment base_env;
    // The limits the supervisor was started with, for those it changed for
    // itself (it raises its soft nofile to the hard limit): services get
    // the originals back, as Go and systemd do.
    std::vector<Limit> inherited_limits;
    std::vector<ServiceSetup> setups;  // parallel to Config::services; may be empty
};

// The full environment of a process, by the precedence above.
Environment build_environment(
    const Environment& base, const Identity& identity, const std::string& notify_socket,
    const std::vector<std::pair<std::string, std::string>>& env,
    const std::vector<std::pair<std::string, std::string>>& env_file_vars = {});

// Where execve() should look for `program` given the process's environment.
std::vector<std::string> exec_search_paths(const std::string& program, const Environment& env);

SpawnPlan plan_service(const ServiceConfig& service, const RunContext& context, std::size_t index,
                       bool foreground);

// An exec probe: the supervisor's environment, stdio on /dev/null, a
// session of its own so that a timeout's SIGKILL reaches all of it.
SpawnPlan plan_probe(const std::vector<std::string>& argv, const RunContext& context);

}  // namespace sv
