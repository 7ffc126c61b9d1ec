// A process's environment, without a copy of the supervisor's per service.
//
// Every service's environment is the supervisor's own (environ, captured
// once per configuration load) with a few entries of its own over it: the
// USER/LOGNAME/HOME of its user, its env_files, its NOTIFY_SOCKET, its
// `env`. So an Environment is two parts:
//
//   - the base: environ normalized once (sorted by key, one entry per key,
//     the last one given winning, entries without '=' dropped) into one
//     block of text, shared by every plan made from it;
//   - its own entries, sorted by key, each replacing or adding a key, or
//     (an entry without '=') hiding a key of the base.
//
// The two are merged in key order only when a process is spawned, as
// pointers into both (for execve's envp): no variable is copied for it.
// When each plan held its own copy, copying environ was two fifths of the
// instructions of `run -- /bin/true`, and 500 services copied it 500 times.
//
// What a process sees is the merge: `entries()` spells it out (for tests,
// and to compare the plans of two configurations at reload).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sv {

class Environment {
  public:
    Environment() = default;
    // The base, normalized from the given "KEY=VALUE" entries.
    explicit Environment(std::span<const std::string_view> entries);
    explicit Environment(const std::vector<std::string>& entries);
    Environment(std::initializer_list<std::string_view> entries);

    // Sets KEY=VALUE over whatever was there, base or own.
    void set(std::string_view key, std::string_view value);
    // Removes the key, from the base too.
    void erase(std::string_view key);

    std::optional<std::string_view> value(std::string_view key) const;

    // Each entry in key order, as a NUL-terminated "KEY=VALUE" that lives as
    // long as this Environment is neither changed nor destroyed.
    template <class F>
    void for_each(F&& f) const;
    std::size_t size_hint() const { return base_size() + own_.size(); }

    std::vector<std::string> entries() const;
    bool operator==(const Environment& other) const;

  private:
    struct Base {
        std::string text;                     // "KEY=VALUE\0" one after the other
        std::vector<std::string_view> items;  // into text, sorted by key
    };
    static std::shared_ptr<const Base> normalize(std::span<const std::string_view> entries);
    std::size_t base_size() const { return base_ ? base_->items.size() : 0; }

    std::shared_ptr<const Base> base_;
    std::vector<std::string> own_;  // sorted by key; without '=': the key hidden
};

// The key of a "KEY=VALUE" entry (all of it without '=').
inline std::string_view env_key(std::string_view entry) {
    return entry.substr(0, entry.find('='));
}

template <class F>
void Environment::for_each(F&& f) const {
    static const std::vector<std::string_view> kNone;
    const std::vector<std::string_view>& base = base_ ? base_->items : kNone;
    std::size_t i = 0, j = 0;
    while (i < base.size() || j < own_.size()) {
        int order = 0;  // < 0: the base's entry first; > 0: our own first
        if (j == own_.size())
            order = -1;
        else if (i == base.size())
            order = 1;
        else
            order = env_key(base[i]).compare(env_key(own_[j]));
        if (order < 0) {
            f(base[i++].data());
            continue;
        }
        if (own_[j].find('=') != std::string::npos) f(own_[j].c_str());
        ++j;
        if (order == 0) ++i;  // replaced or hidden
    }
}

}  // namespace sv
