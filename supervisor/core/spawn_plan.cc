// Spawn plans: see spawn_plan.h.
#include "spawn_plan.h"

#include <algorithm>
#include <string_view>

namespace sv {

namespace {

// Where a program is looked for when PATH is not set at all: what glibc's
// execvp() uses (confstr(_CS_PATH)) plus /usr/local/bin, as a shell would.
constexpr std::string_view kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

}  // namespace

Environment build_environment(
    const Environment& base, const Identity& identity, const std::string& notify_socket,
    const std::vector<std::pair<std::string, std::string>>& env,
    const std::vector<std::pair<std::string, std::string>>& env_file_vars) {
    Environment vars = base;  // the base shared, not copied
    // Never leak the NOTIFY_SOCKET of whoever started us to a service.
    vars.erase("NOTIFY_SOCKET");
    if (identity.set_user && !identity.name.empty()) {
        vars.set("USER", identity.name);
        vars.set("LOGNAME", identity.name);
        vars.set("HOME", identity.home);
    }
    for (const auto& [k, v] : env_file_vars) vars.set(k, v);
    if (!notify_socket.empty()) vars.set("NOTIFY_SOCKET", notify_socket);
    for (const auto& [k, v] : env) vars.set(k, v);
    return vars;
}

std::vector<std::string> exec_search_paths(const std::string& program, const Environment& env) {
    if (program.find('/') != std::string::npos) return {program};
    std::string_view dirs = env.value("PATH").value_or(kDefaultPath);
    std::vector<std::string> out;
    for (;;) {
        const std::size_t colon = dirs.find(':');
        const std::string_view dir = dirs.substr(0, colon);
        // An empty entry means the current directory, as in execvp().
        out.push_back((dir.empty() ? std::string(".") : std::string(dir)) + "/" + program);
        if (colon == std::string_view::npos) break;
        dirs.remove_prefix(colon + 1);
    }
    return out;
}

SpawnPlan plan_service(const ServiceConfig& service, const RunContext& context, std::size_t index,
                       bool foreground) {
    static const ServiceSetup kNoSetup;
    const ServiceSetup& setup = index < context.setups.size() ? context.setups[index] : kNoSetup;
    SpawnPlan plan;
    plan.argv = service.argv;
    plan.identity = setup.identity;
    plan.user = service.user;
    plan.group = service.group;
    plan.notify_socket = setup.notify_socket;
    plan.env = build_environment(context.base_env, plan.identity, plan.notify_socket, service.env,
                                 service.env_file_vars);
    if (!service.argv.empty()) plan.exec_paths = exec_search_paths(service.argv[0], plan.env);
    plan.workdir = service.workdir;
    plan.limits = merge_limits(context.inherited_limits, service.limits);
    plan.umask = service.umask;
    plan.foreground = foreground || service.main_command;
    plan.stdin_mode = plan.foreground ? StdioMode::Inherit : StdioMode::Null;
    const StdioMode out = service.log == LogMode::Prefix    ? StdioMode::Pipe
                          : service.log == LogMode::Inherit ? StdioMode::Inherit
                                                            : StdioMode::Null;
    plan.stdout_mode = plan.stderr_mode = out;
    plan.error = !setup.error.empty() ? setup.error : plan.identity.error;
    return plan;
}

SpawnPlan plan_probe(const std::vector<std::string>& argv, const RunContext& context) {
    SpawnPlan plan;
    plan.argv = argv;
    plan.env = build_environment(context.base_env, Identity{}, "", {});
    if (!argv.empty()) plan.exec_paths = exec_search_paths(argv[0], plan.env);
    plan.limits = context.inherited_limits;
    plan.stdin_mode = plan.stdout_mode = plan.stderr_mode = StdioMode::Null;
    return plan;
}

}  // namespace sv
