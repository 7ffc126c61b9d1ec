// Typed readers of TOML values: see config_reader.h.
#include "config_reader.h"

#include <algorithm>

#include "identity.h"
#include "signals.h"

namespace sv::config_detail {

SourcePos pos_of(const toml::source_region& r) {
    return {static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

bool before(SourcePos a, SourcePos b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
}

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

std::string join_choices(const Keys& words, const char* last_sep) {
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0) out += i + 1 == words.size() ? last_sep : ", ";
        out += words[i];
    }
    return out;
}

std::vector<Entry> in_file_order(const toml::table& table) {
    std::vector<Entry> entries;
    for (auto&& [k, v] : table)
        entries.push_back({std::string(k.str()), &v, pos_of(k.source()), pos_of(v.source())});
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return before(a.key_pos, b.key_pos); });
    return entries;
}

void ValueReader::unknown_key(const Entry& e, const std::string& where, const Keys& valid,
                              const std::string& hint) const {
    std::string msg = "unknown key '" + e.key + "' " + where;
    if (auto near = closest_word(e.key, valid))
        msg += " (did you mean '" + *near + "'?)";
    else if (!hint.empty())
        msg += " (" + hint + ")";
    fail(e.key_pos, msg);
}

const toml::table& ValueReader::table(const Entry& e) const {
    if (const toml::table* t = e.node->as_table()) return *t;
    wrong_type(e, "a table");
}

std::string ValueReader::string(const Entry& e) const {
    if (const auto* s = e.node->as_string()) return s->get();
    wrong_type(e, "a string");
}

bool ValueReader::boolean(const Entry& e) const {
    if (auto b = e.node->as_boolean()) return b->get();
    wrong_type(e, "a boolean (true or false)");
}

std::int64_t ValueReader::integer(const Entry& e, std::int64_t min, std::int64_t max) const {
    const auto* i = e.node->as_integer();
    if (!i) wrong_type(e, "an integer");
    const std::int64_t v = i->get();
    if (v < min || v > max)
        fail(e.pos, e.key + ": " + std::to_string(v) + " is out of range (" + std::to_string(min) +
                        ".." + std::to_string(max) + ")");
    return v;
}

Duration ValueReader::duration(const Entry& e) const {
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

Duration ValueReader::positive_duration(const Entry& e) const {
    const Duration d = duration(e);
    if (d.count() <= 0) fail(e.pos, e.key + ": must be longer than 0s");
    return d;
}

int ValueReader::signal(const Entry& e) const {
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

// Kept as text; the OS layer looks names up when the run starts (so `check`
// works on any machine). Numbers are range-checked here, for integers and
// strings alike, so that no id can wrap round to 0 (root).
std::string ValueReader::id(const Entry& e) const {
    if (e.node->is_integer()) return std::to_string(integer(e, 0, kMaxId));
    if (!e.node->is_string()) wrong_type(e, "a name or a numeric id");
    const std::string s = string(e);
    const IdParse kind = parse_id(s);
    if (kind == IdParse::Empty)
        fail(e.pos, e.key + ": must not be empty (leave the key out instead)");
    if (kind == IdParse::OutOfRange)
        fail(e.pos, e.key + ": " + s + " is out of range (0.." + std::to_string(kMaxId) + ")");
    return s;
}

std::vector<std::string> ValueReader::command(const Entry& e, bool* via_shell) const {
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

std::string ValueReader::address(const Entry& e, HostPortRules rules) const {
    std::string s = string(e);
    if (!parse_host_port(s, rules))
        fail(e.pos, e.key + ": expected \"host:port\" (e.g. \"127.0.0.1:8080\"), got '" + s + "'");
    return s;
}

}  // namespace sv::config_detail
