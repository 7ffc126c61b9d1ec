// Spawn plans: see spawn_plan.h.
#include "spawn_plan.h"

#include <map>

namespace sv {

namespace {

// Where a program is looked for when PATH is not set at all: what glibc's
// execvp() uses (confstr(_CS_PATH)) plus /usr/local/bin, as a shell would.
constexpr std::string_view kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

std::string_view key_of(std::string_view entry) {
    return entry.substr(0, entry.find('='));
}

}  // namespace

std::vector<std::string> build_environment(
    const std::vector<std::string>& base, const Identity& identity,
    const std::string& notify_socket, const std::vector<std::pair<std::string, std::string>>& env,
    const std::vector<std::pair<std::string, std::string>>& env_file_vars) {
    std::map<std::string, std::string, std::less<>> vars;
    for (const std::string& e : base) {
        const std::size_t eq = e.find('=');
        if (eq == std::string::npos) continue;
        vars.insert_or_assign(e.substr(0, eq), e.substr(eq + 1));
    }
    // Never leak the NOTIFY_SOCKET of whoever started us to a service.
    vars.erase("NOTIFY_SOCKET");
    if (identity.set_user && !identity.name.empty()) {
        vars["USER"] = identity.name;
        vars["LOGNAME"] = identity.name;
        vars["HOME"] = identity.home;
    }
    for (const auto& [k, v] : env_file_vars) vars[k] = v;
    if (!notify_socket.empty()) vars["NOTIFY_SOCKET"] = notify_socket;
    for (const auto& [k, v] : env) vars[k] = v;
    std::vector<std::string> out;
    out.reserve(vars.size());
    for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
    return out;
}

std::optional<std::string_view> env_value(const std::vector<std::string>& env,
                                          std::string_view name) {
    for (const std::string& e : env)
        if (key_of(e) == name && e.size() > name.size())
            return std::string_view(e).substr(name.size() + 1);
    return std::nullopt;
}

std::vector<std::string> exec_search_paths(const std::string& program,
                                           const std::vector<std::string>& env) {
    if (program.find('/') != std::string::npos) return {program};
    std::string_view dirs = env_value(env, "PATH").value_or(kDefaultPath);
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
