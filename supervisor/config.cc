// supervisor.toml -> Config.
//
// toml++ does the TOML; this file does the meaning. It walks the document
// table by table and key by key in the order the keys appear in the file
// (toml++ keeps tables as sorted maps, so we sort entries by their source
// position first). Each key is dispatched to a small typed reader; the first
// problem throws a ConfigError carrying the position of the offending key or
// value, so the message a user sees is always about the earliest mistake in
// the file, in the `FILE:LINE:COLUMN: message` shape of SPEC §2.
//
// Unknown keys are errors, never warnings: a misspelt `stop_grase` silently
// ignored would leave a 10 s default in place exactly where the user meant
// something else. To make them cheap to fix, every unknown key is compared to
// the keys valid in that table and the nearest one (edit distance <= 2) is
// suggested.
//
// After the per-key pass, parse_config() builds a Graph once, which rejects
// unknown dependencies and cycles; so a Config that exists is a Config the
// lifecycle engine can run. Nothing here touches the operating system except
// load_config_file(), which reads the one file.
#include "config.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <initializer_list>

#define TOML_HEADER_ONLY 1
#include <toml++/toml.h>

#include "graph.h"
#include "signals.h"

namespace sv {

ConfigError::ConfigError(std::string file, SourcePos pos, std::string message)
    : std::runtime_error(pos.line > 0 ? file + ":" + std::to_string(pos.line) + ":" +
                                            std::to_string(pos.column) + ": " + message
                                      : file + ": " + message),
      file_(std::move(file)),
      pos_(pos),
      message_(std::move(message)) {}

bool ServiceConfig::is_success(int exit_code) const {
    return std::find(success_codes.begin(), success_codes.end(), exit_code) != success_codes.end();
}

int Config::find(std::string_view name) const {
    for (std::size_t i = 0; i < services.size(); ++i)
        if (services[i].name == name) return static_cast<int>(i);
    return -1;
}

namespace {

using Keys = std::vector<std::string_view>;

const Keys kTopKeys = {"supervisor", "services"};
const Keys kSupervisorKeys = {"health_listen", "drain_delay", "shutdown_timeout", "log_format",
                              "on_exit"};
const Keys kServiceKeys = {
    "command",      "env",         "workdir",       "user",    "group",         "type",
    "depends_on",   "stop_signal", "stop_grace",    "restart", "restart_delay", "restart_delay_max",
    "max_restarts", "critical",    "success_codes", "log",     "ready",         "health"};
const Keys kReadyKeys = {"tcp", "http", "exec", "notify", "interval", "timeout", "start_timeout"};
const Keys kHealthKeys = {"tcp", "http", "exec", "interval", "timeout", "failures"};

constexpr std::size_t kMaxServiceName = 64;

SourcePos pos_of(const toml::source_region& r) {
    return {static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

bool before(SourcePos a, SourcePos b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
}

// "an array", "a string": the type as the message's sentence needs it.
const char* type_phrase(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::table:
            return "a table";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        default:
            return "nothing";
    }
}

}  // namespace

// Levenshtein plus adjacent swaps, so "stop_garce" is one edit away from
// "stop_grace", as a typist would count.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
    for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        for (std::size_t j = 1; j <= m; ++j) {
            std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[n][m];
}

namespace {

// One key of a table, with its positions; tables are walked as a vector of
// these, in file order.
struct Entry {
    std::string key;
    const toml::node* node;
    SourcePos key_pos;
    SourcePos pos;  // of the value
};

std::vector<Entry> in_file_order(const toml::table& table) {
    std::vector<Entry> entries;
    for (auto&& [k, v] : table)
        entries.push_back({std::string(k.str()), &v, pos_of(k.source()), pos_of(v.source())});
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return before(a.key_pos, b.key_pos); });
    return entries;
}

std::string join_choices(const Keys& words, const char* last_sep) {
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0) out += i + 1 == words.size() ? last_sep : ", ";
        out += words[i];
    }
    return out;
}

bool valid_service_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxServiceName) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

// "host:port", "[::1]:port". `min_port` is 0 for a listen address (the
// kernel picks a port) and 1 for a probe target.
bool valid_port(std::string_view port, int min_port) {
    if (port.empty() || port.size() > 5) return false;
    int n = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + (c - '0');
    }
    return n >= min_port && n <= 65535;
}

// `allow_empty_host`: ":9180" means every interface (health_listen only).
bool valid_host_port(std::string_view s, int min_port, bool allow_empty_host = false) {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return false;
    if (colon == 0) return allow_empty_host && valid_port(s.substr(1), min_port);
    std::string_view host = s.substr(0, colon), port = s.substr(colon + 1);
    if (host.front() == '[' ? host.back() != ']' || host.size() < 3
                            : host.find(':') != std::string_view::npos)
        return false;
    return valid_port(port, min_port);
}

bool valid_http_url(std::string_view s) {
    constexpr std::string_view kScheme = "http://";
    if (s.rfind(kScheme, 0) != 0) return false;
    std::string_view authority = s.substr(kScheme.size());
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (authority.empty()) return false;
    // The port is optional (80); when given it must be a number.
    std::size_t host_end = authority.front() == '[' ? authority.find(']') : 0;
    if (host_end == std::string_view::npos) return false;
    if (authority.find(':', host_end) == std::string_view::npos)
        return authority.front() != '[' || host_end + 1 == authority.size();
    return valid_host_port(authority, 1);
}

class Loader {
  public:
    explicit Loader(const std::string& file) : file_(file) {}

    Config load(const toml::table& root);

  private:
    [[noreturn]] void fail(SourcePos pos, const std::string& message) const {
        throw ConfigError(file_, pos, message);
    }
    [[noreturn]] void unknown_key(const Entry& e, const std::string& where, const Keys& valid,
                                  const std::string& hint = "") const;
    [[noreturn]] void wrong_type(const Entry& e, const std::string& expected) const {
        fail(e.pos, e.key + ": expected " + expected + ", got " + type_phrase(*e.node));
    }

    const toml::table& table(const Entry& e) const;
    std::string string(const Entry& e) const;
    bool boolean(const Entry& e) const;
    std::int64_t integer(const Entry& e, std::int64_t min, std::int64_t max) const;
    Duration duration(const Entry& e) const;
    Duration positive_duration(const Entry& e) const;
    int signal(const Entry& e) const;
    std::string id(const Entry& e) const;
    std::vector<std::string> command(const Entry& e, bool* via_shell) const;
    std::string address(const Entry& e, int min_port, bool allow_empty_host = false) const;
    template <typename E>
    E choice(const Entry& e, std::initializer_list<std::pair<std::string_view, E>> options) const;

    void load_supervisor(const toml::table& t, SupervisorConfig& out) const;
    void load_service(const Entry& e, ServiceConfig& out) const;
    void load_env(const Entry& e, ServiceConfig& out) const;
    void load_depends_on(const Entry& e, ServiceConfig& out) const;
    void load_success_codes(const Entry& e, ServiceConfig& out) const;
    void load_probe(const Entry& e, const std::string& service, bool health,
                    ProbeConfig& out) const;

    const std::string& file_;
};

void Loader::unknown_key(const Entry& e, const std::string& where, const Keys& valid,
                         const std::string& hint) const {
    std::string msg = "unknown key '" + e.key + "' " + where;
    std::string_view best;
    std::size_t best_distance = 3;  // suggest only near misses: distance <= 2
    for (std::string_view k : valid) {
        std::size_t d = edit_distance(e.key, k);
        if (d < best_distance) {
            best_distance = d;
            best = k;
        }
    }
    if (!best.empty())
        msg += " (did you mean '" + std::string(best) + "'?)";
    else if (!hint.empty())
        msg += " (" + hint + ")";
    fail(e.key_pos, msg);
}

const toml::table& Loader::table(const Entry& e) const {
    if (const toml::table* t = e.node->as_table()) return *t;
    wrong_type(e, "a table");
}

std::string Loader::string(const Entry& e) const {
    if (const auto* s = e.node->as_string()) return s->get();
    wrong_type(e, "a string");
}

bool Loader::boolean(const Entry& e) const {
    if (auto b = e.node->as_boolean()) return b->get();
    wrong_type(e, "a boolean (true or false)");
}

std::int64_t Loader::integer(const Entry& e, std::int64_t min, std::int64_t max) const {
    const auto* i = e.node->as_integer();
    if (!i) wrong_type(e, "an integer");
    std::int64_t v = i->get();
    if (v < min || v > max)
        fail(e.pos, e.key + ": " + std::to_string(v) + " is out of range (" + std::to_string(min) +
                        ".." + std::to_string(max) + ")");
    return v;
}

Duration Loader::duration(const Entry& e) const {
    std::optional<double> seconds;
    if (const auto* i = e.node->as_integer()) seconds = static_cast<double>(i->get());
    if (const auto* f = e.node->as_floating_point()) seconds = f->get();
    if (seconds) {
        if (*seconds != *seconds) fail(e.pos, e.key + ": invalid duration nan");
        if (*seconds < 0) fail(e.pos, e.key + ": a duration cannot be negative");
        if (auto d = duration_from_seconds(*seconds)) return *d;
        fail(e.pos, e.key + ": duration too long (at most 100000h)");
    }
    if (const auto* s = e.node->as_string()) {
        if (auto d = parse_duration(s->get())) return *d;
        fail(e.pos, e.key + ": invalid duration '" + s->get() +
                        "' (use e.g. \"250ms\", \"5s\", \"1m30s\")");
    }
    wrong_type(e, "a duration string or a number of seconds");
}

Duration Loader::positive_duration(const Entry& e) const {
    Duration d = duration(e);
    if (d.count() <= 0) fail(e.pos, e.key + ": must be longer than 0s");
    return d;
}

int Loader::signal(const Entry& e) const {
    if (const auto* i = e.node->as_integer()) {
        if (auto sig = parse_signal(std::to_string(i->get()))) return *sig;
        fail(e.pos, e.key + ": unknown signal " + std::to_string(i->get()));
    }
    if (const auto* s = e.node->as_string()) {
        if (auto sig = parse_signal(s->get())) return *sig;
        fail(e.pos, e.key + ": unknown signal '" + s->get() + "' (use e.g. \"SIGTERM\", \"INT\")");
    }
    wrong_type(e, "a signal name such as \"SIGTERM\" or a number");
}

// user/group: a name, or a numeric id given as an integer. Kept as text; the
// spawner resolves names when it runs (so `check` works on any machine).
std::string Loader::id(const Entry& e) const {
    if (e.node->is_integer()) return std::to_string(integer(e, 0, UINT_MAX - 1));
    if (!e.node->is_string()) wrong_type(e, "a name or a numeric id");
    std::string s = string(e);
    if (s.empty()) fail(e.pos, e.key + ": must not be empty (leave the key out instead)");
    return s;
}

std::vector<std::string> Loader::command(const Entry& e, bool* via_shell) const {
    if (const auto* s = e.node->as_string()) {
        const std::string& text = s->get();
        if (text.find_first_not_of(" \t\n") == std::string::npos)
            fail(e.pos, e.key + ": empty command");
        if (via_shell) *via_shell = true;
        return {"/bin/sh", "-c", text};
    }
    const auto* arr = e.node->as_array();
    if (!arr) wrong_type(e, "an array of strings (argv) or a string (run by /bin/sh -c)");
    if (arr->empty())
        fail(e.pos, e.key +
                        ": empty command (give the program and its arguments, e.g. "
                        "[\"/usr/bin/app\", \"--flag\"])");
    std::vector<std::string> argv;
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const toml::node& item = *arr->get(i);
        Entry element{e.key + "[" + std::to_string(i) + "]", &item, e.key_pos,
                      pos_of(item.source())};
        argv.push_back(string(element));
    }
    if (argv[0].empty()) fail(pos_of(arr->get(0)->source()), e.key + ": the program name is empty");
    if (via_shell) *via_shell = false;
    return argv;
}

std::string Loader::address(const Entry& e, int min_port, bool allow_empty_host) const {
    std::string s = string(e);
    if (!valid_host_port(s, min_port, allow_empty_host))
        fail(e.pos, e.key + ": expected \"host:port\" (e.g. \"127.0.0.1:8080\"), got '" + s + "'");
    return s;
}

template <typename E>
E Loader::choice(const Entry& e,
                 std::initializer_list<std::pair<std::string_view, E>> options) const {
    std::string s = string(e);
    Keys names;
    for (const auto& [name, value] : options) {
        if (s == name) return value;
        names.push_back(name);
    }
    std::string msg =
        e.key + ": unknown value '" + s + "' (expected " + join_choices(names, " or ");
    for (std::string_view name : names)
        if (edit_distance(s, name) <= 2) {
            msg += "; did you mean '" + std::string(name) + "'?";
            break;
        }
    fail(e.pos, msg + ")");
}

void Loader::load_supervisor(const toml::table& t, SupervisorConfig& out) const {
    for (const Entry& e : in_file_order(t)) {
        if (e.key == "health_listen") {
            out.health_listen = e.node->is_string() && string(e).empty() ? "" : address(e, 0, true);
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
            out.address = address(k, 1);
        } else if (k.key == "http") {
            out.kind = ProbeKind::Http;
            out.address = string(k);
            if (!valid_http_url(out.address))
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

Config Loader::load(const toml::table& root) {
    Config cfg;
    cfg.file = file_;
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
    std::stable_sort(
        cfg.services.begin(), cfg.services.end(),
        [](const ServiceConfig& a, const ServiceConfig& b) { return before(a.pos, b.pos); });
    return cfg;
}

}  // namespace

Config parse_config(std::string_view text, const std::string& file) {
    toml::table root;
    try {
        root = toml::parse(text, std::string_view(file));
    } catch (const toml::parse_error& err) {
        throw ConfigError(file, pos_of(err.source()), std::string(err.description()));
    }
    Config cfg = Loader(file).load(root);
    Graph graph(cfg);  // throws on unknown dependencies and cycles
    return cfg;
}

Config load_config_file(const std::string& path) {
    // stdio rather than ifstream: errno is reliable after fopen/fread, and
    // "cannot read: Permission denied" is worth the difference.
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw ConfigError(path, {}, std::string("cannot read: ") + std::strerror(errno));
    std::string text;
    char buf[8192];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    int err = std::ferror(f) ? errno : 0;
    std::fclose(f);
    if (err) throw ConfigError(path, {}, std::string("cannot read: ") + std::strerror(err));
    return parse_config(text, path);
}

}  // namespace sv
