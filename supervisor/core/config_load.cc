// supervisor.toml -> Config: the meaning of every table and key.
//
// toml++ does the TOML; this file walks the document table by table and key
// by key in the order the keys appear in the file, and hands each value to a
// typed reader (config_reader.h). The first problem throws a ConfigError
// carrying the position of the offending key or value, so the message a user
// sees is always about the earliest mistake in the file, in the
// `FILE:LINE:COLUMN: message` shape of docs/configuration.md.
//
// Unknown keys are errors, never warnings: a misspelt `stop_grase` silently
// ignored would leave a 10 s default in place exactly where the user meant
// something else. To make them cheap to fix, every unknown key is compared to
// the keys valid in that table and the nearest one (edit distance <= 2) is
// suggested.
//
// After the per-key pass, parse_config() builds a Graph once, which rejects
// unknown dependencies and cycles; so a Config that exists is a Config the
// lifecycle engine can run.
#include <algorithm>
#include <climits>
#include <cstdint>

#include "config.h"
#include "config_reader.h"
#include "graph.h"
#include "toml_text.h"

namespace sv {

namespace {

using namespace config_detail;

const Keys kTopKeys = {"supervisor", "services"};
const Keys kSupervisorKeys = {"health_listen", "drain_delay",    "shutdown_timeout", "log_format",
                              "on_exit",       "control_socket", "control_group",    "sighup",
                              "env_file",      "hostname"};
const Keys kServiceKeys = {
    "command",      "env",         "workdir",       "user",    "group",         "type",
    "depends_on",   "stop_signal", "stop_grace",    "restart", "restart_delay", "restart_delay_max",
    "max_restarts", "critical",    "success_codes", "log",     "ready",         "health",
    "env_file",     "umask",       "limits"};
const Keys kReadyKeys = {"tcp", "http", "exec", "notify", "interval", "timeout", "start_timeout"};
const Keys kHealthKeys = {"tcp", "http", "exec", "interval", "timeout", "failures"};

constexpr std::size_t kMaxServiceName = 64;

bool valid_service_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxServiceName) return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

class Loader : ValueReader {
  public:
    explicit Loader(const std::string& file) : ValueReader(file) {}

    Config load(const toml::table& root) const;

  private:
    void load_supervisor(const toml::table& t, SupervisorConfig& out) const;
    void load_service(const Entry& e, ServiceConfig& out) const;
    void load_env(const Entry& e, ServiceConfig& out) const;
    void load_depends_on(const Entry& e, ServiceConfig& out) const;
    void load_success_codes(const Entry& e, ServiceConfig& out) const;
    void load_probe(const Entry& e, const std::string& service, bool health,
                    ProbeConfig& out) const;
    std::vector<EnvFile> env_files(const Entry& e) const;
    unsigned umask(const Entry& e) const;
    std::vector<Limit> limits(const Entry& e) const;
    std::uint64_t limit_value(const Entry& e) const;
};

void Loader::load_supervisor(const toml::table& t, SupervisorConfig& out) const {
    for (const Entry& e : in_file_order(t)) {
        if (e.key == "health_listen") {
            out.health_listen =
                e.node->is_string() && string(e).empty()
                    ? ""
                    : address(e, {.allow_empty_host = true, .allow_port_zero = true});
        } else if (e.key == "drain_delay") {
            out.drain_delay = duration(e);
        } else if (e.key == "shutdown_timeout") {
            out.shutdown_timeout = duration(e);
        } else if (e.key == "log_format") {
            out.log_format =
                choice<LogFormat>(e, {{"text", LogFormat::Text}, {"json", LogFormat::Json}});
        } else if (e.key == "on_exit") {
            out.on_exit = choice<OnExit>(e, {{"exit", OnExit::Exit},
                                             {"poweroff", OnExit::Poweroff},
                                             {"reboot", OnExit::Reboot}});
        } else if (e.key == "control_socket") {
            out.control_socket = string(e);
            if (!out.control_socket.empty() && out.control_socket != "auto" &&
                out.control_socket.front() != '/')
                fail(e.pos, "control_socket: expected \"auto\", \"\" or an absolute path, got '" +
                                out.control_socket + "'");
            if (out.control_socket.size() >= 108)
                fail(e.pos,
                     "control_socket: the path is too long for a Unix socket (at most 107 "
                     "bytes)");
        } else if (e.key == "control_group") {
            out.control_group = id(e);
        } else if (e.key == "sighup") {
            out.sighup = choice<SighupAction>(
                e, {{"forward", SighupAction::Forward}, {"reload", SighupAction::Reload}});
        } else if (e.key == "env_file") {
            out.env_files = env_files(e);
        } else if (e.key == "hostname") {
            out.hostname = string(e);
            if (out.hostname.empty() || out.hostname.size() > 64 ||
                out.hostname.find_first_of(" \t/") != std::string::npos)
                fail(e.pos, "hostname: expected a host name of 1 to 64 characters, got '" +
                                out.hostname + "'");
        } else {
            unknown_key(e, "in [supervisor]", kSupervisorKeys);
        }
    }
}

void Loader::load_env(const Entry& e, ServiceConfig& out) const {
    // toml++ tables iterate in key order, which is the order ServiceConfig
    // promises (sorted by name), so no sort is needed here.
    for (auto&& [k, v] : table(e)) {
        std::string name(k.str());
        Entry var{"env." + name, &v, pos_of(k.source()), pos_of(v.source())};
        if (name.empty() || name.find('=') != std::string::npos)
            fail(var.key_pos, "env: invalid variable name '" + name + "'");
        // Numbers and booleans are written as text, as docker compose does,
        // because `PORT = 8080` is what people type. Floats are refused:
        // their text form is ambiguous (1.50 or 1.5?).
        std::string value;
        if (const auto* i = v.as_integer()) {
            value = std::to_string(i->get());
        } else if (const auto* b = v.as_boolean()) {
            value = b->get() ? "true" : "false";
        } else if (v.is_string()) {
            value = string(var);
        } else {
            wrong_type(var, "a string");
        }
        out.env.emplace_back(std::move(name), std::move(value));
    }
}

void Loader::load_depends_on(const Entry& e, ServiceConfig& out) const {
    const auto* arr = e.node->as_array();
    if (!arr) {
        if (e.node->is_string())
            fail(e.pos, e.key + ": expected an array of service names, got a string (write [\"" +
                            string(e) + "\"])");
        wrong_type(e, "an array of service names");
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const toml::node& item = *arr->get(i);
        Entry dep{"depends_on[" + std::to_string(i) + "]", &item, e.key_pos, pos_of(item.source())};
        std::string name = string(dep);
        if (name.empty()) fail(dep.pos, "depends_on: empty service name");
        if (std::find(out.depends_on.begin(), out.depends_on.end(), name) != out.depends_on.end())
            fail(dep.pos, "depends_on: '" + name + "' is listed twice");
        out.depends_on.push_back(std::move(name));
        out.depends_on_pos.push_back(dep.pos);
    }
}

void Loader::load_success_codes(const Entry& e, ServiceConfig& out) const {
    const auto* arr = e.node->as_array();
    if (!arr) wrong_type(e, "an array of exit statuses (0..255)");
    if (arr->empty()) fail(e.pos, e.key + ": must list at least one exit status, e.g. [0]");
    out.success_codes.clear();
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const toml::node& item = *arr->get(i);
        Entry code{"success_codes[" + std::to_string(i) + "]", &item, e.key_pos,
                   pos_of(item.source())};
        out.success_codes.push_back(static_cast<int>(integer(code, 0, 255)));
    }
}

void Loader::load_probe(const Entry& e, const std::string& service, bool health,
                        ProbeConfig& out) const {
    const toml::table& t = table(e);
    const std::string section = "[services." + service + (health ? ".health]" : ".ready]");
    out.pos = e.pos.line > 0 ? e.pos : e.key_pos;
    std::vector<std::string> kinds;  // in file order, for the "both" message
    for (const Entry& k : in_file_order(t)) {
        if (k.key == "tcp") {
            out.kind = ProbeKind::Tcp;
            out.address = address(k, {});
        } else if (k.key == "http") {
            out.kind = ProbeKind::Http;
            out.address = string(k);
            if (!parse_http_url(out.address))
                fail(k.pos,
                     "http: expected a URL such as \"http://127.0.0.1:8080/ready\" "
                     "(http:// only), got '" +
                         out.address + "'");
        } else if (k.key == "exec") {
            out.kind = ProbeKind::Exec;
            out.argv = command(k, nullptr);
        } else if (k.key == "notify" && !health) {
            if (!boolean(k)) continue;  // notify = false: as if absent
            out.kind = ProbeKind::Notify;
        } else if (k.key == "notify") {
            fail(k.key_pos, "notify: " + section +
                                " cannot use notify (it signals readiness once); use tcp, http "
                                "or exec");
        } else if (k.key == "interval") {
            out.interval = positive_duration(k);
            continue;
        } else if (k.key == "timeout") {
            out.timeout = positive_duration(k);
            continue;
        } else if (k.key == "start_timeout" && !health) {
            out.start_timeout = positive_duration(k);
            continue;
        } else if (k.key == "failures" && health) {
            out.failures = static_cast<int>(integer(k, 1, INT_MAX));
            continue;
        } else if (k.key == "start_timeout" || k.key == "failures") {
            unknown_key(
                k, "in " + section, health ? kHealthKeys : kReadyKeys,
                k.key + " belongs in [services." + service + (health ? ".ready]" : ".health]"));
        } else {
            unknown_key(k, "in " + section, health ? kHealthKeys : kReadyKeys);
        }
        kinds.push_back(k.key);
    }
    const Keys all = health ? Keys{"tcp", "http", "exec"} : Keys{"tcp", "http", "exec", "notify"};
    if (kinds.empty())
        fail(out.pos, section + " needs exactly one of " + join_choices(all, " or "));
    if (kinds.size() > 1) {
        Keys named(kinds.begin(), kinds.end());
        fail(out.pos, section + " has " + (named.size() == 2 ? "both " : "") +
                          join_choices(named, " and ") + "; use exactly one of " +
                          join_choices(all, " or "));
    }
}

// A path or a list of paths; relative ones are taken from the
// configuration file's folder, as docker compose does.
std::vector<EnvFile> Loader::env_files(const Entry& e) const {
    std::vector<Entry> items;
    if (e.node->is_string()) {
        items.push_back(e);
    } else if (const auto* arr = e.node->as_array()) {
        for (std::size_t i = 0; i < arr->size(); ++i)
            items.push_back({e.key + "[" + std::to_string(i) + "]", arr->get(i), e.key_pos,
                             pos_of(arr->get(i)->source())});
    } else {
        wrong_type(e, "a path or an array of paths");
    }
    const std::size_t slash = file().rfind('/');
    const std::string dir = slash == std::string::npos ? "" : file().substr(0, slash + 1);
    std::vector<EnvFile> out;
    for (const Entry& item : items) {
        std::string path = string(item);
        if (path.empty()) fail(item.pos, item.key + ": empty path");
        if (path.front() != '/') path = dir + path;
        out.push_back({std::move(path), item.pos});
    }
    return out;
}

// "022" (octal, as umask(1) writes it) or an integer such as 0o022.
unsigned Loader::umask(const Entry& e) const {
    if (e.node->is_integer()) return static_cast<unsigned>(integer(e, 0, 0777));
    const std::string s = string(e);
    unsigned v = 0;
    if (s.empty() || s.size() > 4) v = 01000;
    for (char c : s) v = c >= '0' && c <= '7' ? v * 8 + static_cast<unsigned>(c - '0') : 01000;
    if (v > 0777)
        fail(e.pos, "umask: expected an octal mask such as \"022\" (0 to 777), got '" + s + "'");
    return v;
}

std::uint64_t Loader::limit_value(const Entry& e) const {
    if (e.node->is_string()) {
        if (string(e) == "unlimited" || string(e) == "infinity") return kUnlimited;
        fail(e.pos, e.key + ": expected a number or \"unlimited\", got '" + string(e) + "'");
    }
    return static_cast<std::uint64_t>(integer(e, 0, INT64_MAX));
}

// { nofile = 65536, core = 0, memlock = "unlimited", nproc = [1024, 4096] }
std::vector<Limit> Loader::limits(const Entry& e) const {
    std::vector<Limit> out;
    for (const Entry& k : in_file_order(table(e))) {
        const auto resource = parse_resource(k.key);
        if (!resource)
            fail(k.key_pos, "limits: unknown limit '" + k.key + "'" +
                                did_you_mean(k.key, resource_names()) +
                                " (the setrlimit names "
                                "without RLIMIT_: nofile, core, nproc, memlock, …)");
        Limit l{*resource, 0, 0};
        const Entry named{"limits." + k.key, k.node, k.key_pos, k.pos};
        if (const auto* arr = k.node->as_array()) {
            if (arr->size() != 2)
                fail(k.pos, named.key + ": expected [soft, hard], got " +
                                std::to_string(arr->size()) + " values");
            l.soft = limit_value(
                {named.key + "[0]", arr->get(0), k.key_pos, pos_of(arr->get(0)->source())});
            l.hard = limit_value(
                {named.key + "[1]", arr->get(1), k.key_pos, pos_of(arr->get(1)->source())});
            if (l.soft > l.hard)
                fail(k.pos,
                     named.key + ": the soft limit " + limit_text({l.resource, l.soft, l.soft}) +
                         " is above the hard one " + limit_text({l.resource, l.hard, l.hard}));
        } else {
            l.soft = l.hard = limit_value(named);
        }
        out.push_back(l);
    }
    return out;
}

void Loader::load_service(const Entry& e, ServiceConfig& out) const {
    const toml::table& t = table(e);
    out.name = e.key;
    out.pos = e.pos;
    // Liveness probes run for the whole life of the service, so they poll
    // less often and allow slower answers than readiness probes.
    out.health.interval = Duration(10000);
    out.health.timeout = Duration(2000);

    const Entry* restart_entry = nullptr;
    const Entry* delay_max_entry = nullptr;
    const Entry* ready_entry = nullptr;
    bool has_command = false;
    const std::vector<Entry> entries = in_file_order(t);
    for (const Entry& k : entries) {
        if (k.key == "command") {
            out.argv = command(k, &out.via_shell);
            has_command = true;
        } else if (k.key == "env") {
            load_env(k, out);
        } else if (k.key == "workdir") {
            out.workdir = string(k);
        } else if (k.key == "user") {
            out.user = id(k);
        } else if (k.key == "group") {
            out.group = id(k);
        } else if (k.key == "type") {
            out.type = choice<ServiceType>(
                k, {{"longrun", ServiceType::Longrun}, {"oneshot", ServiceType::Oneshot}});
        } else if (k.key == "depends_on") {
            load_depends_on(k, out);
        } else if (k.key == "stop_signal") {
            out.stop_signal = signal(k);
        } else if (k.key == "stop_grace") {
            out.stop_grace = duration(k);
        } else if (k.key == "restart") {
            out.restart = choice<RestartPolicy>(k, {{"never", RestartPolicy::Never},
                                                    {"on-failure", RestartPolicy::OnFailure},
                                                    {"always", RestartPolicy::Always}});
            restart_entry = &k;
        } else if (k.key == "restart_delay") {
            out.restart_delay = duration(k);
        } else if (k.key == "restart_delay_max") {
            out.restart_delay_max = duration(k);
            delay_max_entry = &k;
        } else if (k.key == "max_restarts") {
            out.max_restarts = static_cast<int>(integer(k, 0, INT_MAX));
        } else if (k.key == "critical") {
            out.critical = boolean(k);
        } else if (k.key == "success_codes") {
            load_success_codes(k, out);
        } else if (k.key == "log") {
            out.log = choice<LogMode>(k, {{"prefix", LogMode::Prefix},
                                          {"inherit", LogMode::Inherit},
                                          {"null", LogMode::Null}});
        } else if (k.key == "ready") {
            load_probe(k, out.name, false, out.ready);
            ready_entry = &k;
        } else if (k.key == "health") {
            load_probe(k, out.name, true, out.health);
        } else if (k.key == "env_file") {
            out.env_files = env_files(k);
        } else if (k.key == "umask") {
            out.umask = umask(k);
        } else if (k.key == "limits") {
            out.limits = limits(k);
        } else {
            unknown_key(k, "in [services." + out.name + "]", kServiceKeys);
        }
    }

    if (!has_command) fail(out.pos, "service '" + out.name + "' has no command");
    if (delay_max_entry && out.restart_delay_max < out.restart_delay)
        fail(delay_max_entry->pos, "restart_delay_max (" + format_duration(out.restart_delay_max) +
                                       ") is shorter than restart_delay (" +
                                       format_duration(out.restart_delay) + ")");
    // Without an explicit maximum, a long first delay raises the default cap
    // rather than being an error about a key the user never wrote.
    out.restart_delay_max = std::max(out.restart_delay_max, out.restart_delay);
    if (out.type == ServiceType::Oneshot) {
        // A oneshot is done when it exits 0; restarting it after success or
        // probing its readiness would contradict that.
        if (out.restart == RestartPolicy::Always)
            fail(restart_entry->pos,
                 "restart: a oneshot cannot use \"always\" (it would never complete); use "
                 "\"on-failure\"");
        if (ready_entry)
            fail(out.ready.pos, "[services." + out.name +
                                    ".ready]: a oneshot is ready when it exits 0; remove "
                                    "this section or use type = \"longrun\"");
    }
}

Config Loader::load(const toml::table& root) const {
    Config cfg;
    cfg.file = file();
    SourcePos services_pos{1, 1};
    for (const Entry& e : in_file_order(root)) {
        if (e.key == "supervisor") {
            load_supervisor(table(e), cfg.supervisor);
        } else if (e.key == "services") {
            services_pos = e.pos.line > 0 ? e.pos : e.key_pos;
            for (const Entry& s : in_file_order(table(e))) {
                if (!valid_service_name(s.key))
                    fail(s.key_pos, "invalid service name '" + s.key +
                                        "': use letters, digits, '_', '.' and '-' (at most " +
                                        std::to_string(kMaxServiceName) + " characters)");
                // A key written directly under [services] (say `command = ...`)
                // lands here; name the table it should have been.
                if (!s.node->is_table())
                    fail(s.pos, "services." + s.key + ": expected a table such as [services." +
                                    s.key + "], got " + type_phrase(*s.node));
                ServiceConfig svc;
                load_service(s, svc);
                cfg.services.push_back(std::move(svc));
            }
        } else {
            unknown_key(e, "at the top level", kTopKeys);
        }
    }
    if (cfg.services.empty())
        fail(services_pos, "no services defined (add a [services.NAME] table with a command)");
    // Entries were sorted by key position; a service's table may be opened
    // by a sub-table header ([services.api.ready]) before [services.api], so
    // order by the table's own position, which is what the user sees first.
    // Nearly always in order already, and then not moved at all: a stable
    // sort moves every service through its buffer even so (a tenth of the
    // instructions of a 500-service run, start and stop, when it did).
    const auto by_position = [](const ServiceConfig& a, const ServiceConfig& b) {
        return before(a.pos, b.pos);
    };
    if (!std::is_sorted(cfg.services.begin(), cfg.services.end(), by_position))
        std::stable_sort(cfg.services.begin(), cfg.services.end(), by_position);
    return cfg;
}

}  // namespace

namespace {

// toml++'s error as a ConfigError (which keeps it on one line).
ConfigError parse_error(const toml::parse_error& err, const std::string& file,
                        std::string_view original) {
    const SourcePos pos = pos_of(err.source());
    // The masked copy says '?' where the user wrote a non-ASCII character.
    const std::string cp = non_ascii_at(original, pos.line, pos.column);
    if (!cp.empty())
        return ConfigError(file, pos,
                           "the character " + cp +
                               " is not allowed here (non-ASCII characters belong in quoted "
                               "strings and comments)");
    return ConfigError(file, pos, std::string(err.description()));
}

}  // namespace

Config parse_config(std::string_view text, const std::string& file) {
    // The order matters: see toml_text.h.
    check_control_characters(text, file);
    if (has_non_ascii(text)) {
        try {
            (void)toml::parse(mask_non_ascii(text), std::string_view(file));
        } catch (const toml::parse_error& err) {
            throw parse_error(err, file, text);
        }
        check_escapes(text, file);
    }
    toml::table root;
    try {
        root = toml::parse(text, std::string_view(file));
    } catch (const toml::parse_error& err) {
        throw parse_error(err, file, text);
    }
    Config cfg = Loader(file).load(root);
    Graph graph(cfg);  // throws on unknown dependencies and cycles
    return cfg;
}

}  // namespace sv
