// Spawn plans: see spawn_plan.h.
#include "spawn_plan.h"

#include <algorithm>
#include <string_view>

namespace sv {

namespace {

// Where a program is looked for when PATH is not set at all: what glibc's
// execvp() uses (confstr(_CS_PATH)) plus /usr/local/bin, as a shell would.
constexpr std::string_view kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

std::string_view key_of(std::string_view entry) {
    return entry.substr(0, entry.find('='));
}

}  // namespace

namespace {

// The environment as "KEY=VALUE" strings sorted by key, one per key. Built
// in place in the vector (one copy per variable and a binary search per
// override) rather than through a map, since every service's plan is built
// at each start and reload.
class EnvBuilder {
  public:
    explicit EnvBuilder(const std::vector<std::string>& base)
        : vars_(normalized_environment(base)) {
        vars_.reserve(vars_.size() + 8);
    }

    void set(std::string_view key, std::string_view value) {
        auto it = find(key);
        std::string entry;
        entry.reserve(key.size() + 1 + value.size());
        entry.append(key).append("=").append(value);
        if (it != vars_.end() && key_of(*it) == key)
            *it = std::move(entry);
        else
            vars_.insert(it, std::move(entry));
    }

    void erase(std::string_view key) {
        auto it = find(key);
        if (it != vars_.end() && key_of(*it) == key) vars_.erase(it);
    }

    std::vector<std::string> take() { return std::move(vars_); }

  private:
    std::vector<std::string>::iterator find(std::string_view key) {
        return std::lower_bound(
            vars_.begin(), vars_.end(), key,
            [](const std::string& e, std::string_view k) { return key_of(e) < k; });
    }

    std::vector<std::string> vars_;
};

// For environ's views and for a vector of strings alike (a copy of the
// strings into views would be one more allocation per plan).
template <class Env>
std::vector<std::string> normalize(const Env& env) {
    // Sorted through small (key, index) records: sorting the strings
    // themselves cost a third of the instructions from exec to the first
    // spawn. Already sorted (a RunContext's base_env): no sort at all. The
    // index breaks ties, so an unstable sort keeps the given order of equal
    // keys without stable_sort's buffer.
    struct Entry {
        std::string_view key;
        std::size_t index;
    };
    std::vector<Entry> entries;
    entries.reserve(env.size());
    for (std::size_t i = 0; i < env.size(); ++i) {
        const std::size_t eq = env[i].find('=');
        if (eq != std::string_view::npos)
            entries.push_back({std::string_view(env[i]).substr(0, eq), i});
    }
    const auto by_key = [](const Entry& a, const Entry& b) {
        const int c = a.key.compare(b.key);  // once: it is most of the sort's work
        return c < 0 || (c == 0 && a.index < b.index);
    };
    if (!std::is_sorted(entries.begin(), entries.end(), by_key))
        std::sort(entries.begin(), entries.end(), by_key);
    // One per key, the last one given winning (as with setenv in order):
    // the last of each run of equal keys.
    std::vector<std::string> out;
    out.reserve(entries.size());
    for (std::size_t k = 0; k < entries.size(); ++k)
        if (k + 1 == entries.size() || entries[k + 1].key != entries[k].key)
            out.emplace_back(env[entries[k].index]);
    return out;
}

}  // namespace

std::vector<std::string> normalized_environment(std::span<const std::string_view> env) {
    return normalize(env);
}

std::vector<std::string> normalized_environment(const std::vector<std::string>& env) {
    return normalize(env);
}

std::vector<std::string> build_environment(
    const std::vector<std::string>& base, const Identity& identity,
    const std::string& notify_socket, const std::vector<std::pair<std::string, std::string>>& env,
    const std::vector<std::pair<std::string, std::string>>& env_file_vars) {
    EnvBuilder vars(base);
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
    return vars.take();
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
