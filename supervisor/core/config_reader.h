// Typed readers of TOML values for the configuration loader.
//
// toml++ does the TOML; the loader (config_load.cc) does the meaning, key
// by key. Each value goes through one of these readers, which either returns
// it in the type the Config wants or throws a ConfigError carrying the
// position of the offending key or value, so the message a user sees is
// always `FILE:LINE:COLUMN: what is wrong`. Internal to the loader.
#pragma once

// toml++ 3.3 (Debian 12) checks its parser's internal invariants with
// assert() and, when NDEBUG is defined, turns them into optimiser
// assumptions; a malformed file such as "[#" breaks one (found by
// fuzz/config_fuzz.cc): an abort in a debug build, undefined behaviour in a
// release one. Its own error handling copes with those inputs, so it is
// included with the checks off and no assumptions made: both the
// assertions and NDEBUG's "assume" are out of the way.
#pragma push_macro("NDEBUG")
#undef NDEBUG
#define TOML_ASSERT(expr) static_cast<void>(0)
#define TOML_HEADER_ONLY 1
#include <toml++/toml.h>
#pragma pop_macro("NDEBUG")

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "address.h"
#include "config.h"
#include "suggest.h"

namespace sv::config_detail {

using Keys = std::vector<std::string_view>;

SourcePos pos_of(const toml::source_region& r);
bool before(SourcePos a, SourcePos b);

// "an array", "a string": a value's type as a message's sentence needs it.
const char* type_phrase(const toml::node& n);

// "a, b or c".
std::string join_choices(const Keys& words, const char* last_sep);

// One key of a table, with its positions; tables are walked as a vector of
// these, in file order (toml++ keeps tables as sorted maps).
struct Entry {
    std::string key;
    const toml::node* node;
    SourcePos key_pos;
    SourcePos pos;  // of the value
};

std::vector<Entry> in_file_order(const toml::table& table);

class ValueReader {
  public:
    explicit ValueReader(const std::string& file) : file_(file) {}

    const std::string& file() const { return file_; }

    [[noreturn]] void fail(SourcePos pos, const std::string& message) const {
        throw ConfigError(file_, pos, message);
    }
    // "unknown key 'stop_grase' in [services.api] (did you mean 'stop_grace'?)";
    // `hint` is said instead when no valid key is near.
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
    // user/group: a name, or a numeric id as an integer or a string of
    // digits, by one rule (identity.h).
    std::string id(const Entry& e) const;
    // An argv array, or a string run by /bin/sh -c (then *via_shell is true).
    std::vector<std::string> command(const Entry& e, bool* via_shell) const;
    // host:port as address.h reads it.
    std::string address(const Entry& e, HostPortRules rules) const;
    template <typename E>
    E choice(const Entry& e, std::initializer_list<std::pair<std::string_view, E>> options) const;

  private:
    const std::string& file_;
};

template <typename E>
E ValueReader::choice(const Entry& e,
                      std::initializer_list<std::pair<std::string_view, E>> options) const {
    const std::string s = string(e);
    Keys names;
    for (const auto& [name, value] : options) {
        if (s == name) return value;
        names.push_back(name);
    }
    std::string msg =
        e.key + ": unknown value '" + s + "' (expected " + join_choices(names, " or ");
    if (auto near = closest_word(s, names)) msg += "; did you mean '" + *near + "'?";
    fail(e.pos, msg + ")");
}

}  // namespace sv::config_detail
