// Environments: see environment.h.
#include "environment.h"

#include <algorithm>
#include <cstdint>

namespace sv {

namespace {

// The first eight bytes of a key, big-endian and zero-padded: comparing two
// of them orders the keys as comparing the keys does (bytes as unsigned
// char, a prefix first), and decides almost every comparison of a sort of
// environ with one instruction. Keys never hold a NUL, so equal prefixes of
// keys no longer than eight bytes mean equal keys.
std::uint64_t prefix_of(std::string_view key) {
    std::uint64_t p = 0;
    for (std::size_t k = 0; k < 8; ++k)
        p = p << 8 | (k < key.size() ? static_cast<unsigned char>(key[k]) : 0u);
    return p;
}

}  // namespace

std::shared_ptr<const Environment::Base> Environment::normalize(
    std::span<const std::string_view> entries) {
    struct Entry {
        std::uint64_t prefix;
        std::string_view key;
        std::size_t index;  // ties: the order given, so that the last one wins
    };
    std::vector<Entry> sorted;
    sorted.reserve(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const std::size_t eq = entries[i].find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view key = entries[i].substr(0, eq);
        sorted.push_back({prefix_of(key), key, i});
    }
    const auto before = [](const Entry& a, const Entry& b) {
        if (a.prefix != b.prefix) return a.prefix < b.prefix;
        if (a.key.size() > 8 || b.key.size() > 8) {
            const int c = a.key.compare(b.key);
            if (c != 0) return c < 0;
        }
        return a.index < b.index;
    };
    if (!std::is_sorted(sorted.begin(), sorted.end(), before))
        std::sort(sorted.begin(), sorted.end(), before);

    // One per key, the last one given winning (as with setenv in order):
    // the last of each run of equal keys. One block of text for all.
    auto base = std::make_shared<Base>();
    std::vector<std::size_t> kept;
    kept.reserve(sorted.size());
    std::size_t bytes = 0;
    for (std::size_t k = 0; k < sorted.size(); ++k)
        if (k + 1 == sorted.size() || sorted[k + 1].key != sorted[k].key) {
            kept.push_back(sorted[k].index);
            bytes += entries[sorted[k].index].size() + 1;
        }
    base->text.reserve(bytes);
    for (std::size_t index : kept) base->text.append(entries[index]).push_back('\0');
    base->items.reserve(kept.size());
    const char* at = base->text.data();  // no reallocation past this point
    for (std::size_t index : kept) {
        base->items.emplace_back(at, entries[index].size());
        at += entries[index].size() + 1;
    }
    return base;
}

Environment::Environment(std::span<const std::string_view> entries) : base_(normalize(entries)) {}

Environment::Environment(std::initializer_list<std::string_view> entries)
    : Environment(std::span<const std::string_view>(entries.begin(), entries.size())) {}

Environment::Environment(const std::vector<std::string>& entries) {
    const std::vector<std::string_view> views(entries.begin(), entries.end());
    base_ = normalize(views);
}

namespace {

// Where `key` is or would go in a list sorted by key.
template <class List>
auto place_of(List& list, std::string_view key) {
    return std::lower_bound(list.begin(), list.end(), key,
                            [](const auto& e, std::string_view k) { return env_key(e) < k; });
}

// The entry of `key` in a list sorted by key, or its end.
template <class List>
auto find_key(List& list, std::string_view key) {
    auto it = place_of(list, key);
    return it != list.end() && env_key(*it) == key ? it : list.end();
}

}  // namespace

void Environment::set(std::string_view key, std::string_view value) {
    std::string entry;
    entry.reserve(key.size() + 1 + value.size());
    entry.append(key).append("=").append(value);
    auto it = place_of(own_, key);
    if (it != own_.end() && env_key(*it) == key)
        *it = std::move(entry);
    else
        own_.insert(it, std::move(entry));
}

void Environment::erase(std::string_view key) {
    auto it = place_of(own_, key);
    const bool mine = it != own_.end() && env_key(*it) == key;
    const bool in_base = base_ && find_key(base_->items, key) != base_->items.end();
    if (!in_base) {
        if (mine) own_.erase(it);
    } else if (mine) {
        *it = std::string(key);  // hides the base's
    } else {
        own_.insert(it, std::string(key));
    }
}

std::optional<std::string_view> Environment::value(std::string_view key) const {
    const auto value_of = [&](std::string_view e) -> std::optional<std::string_view> {
        if (e.size() <= key.size()) return std::nullopt;  // hidden
        return e.substr(key.size() + 1);
    };
    if (auto mine = find_key(own_, key); mine != own_.end()) return value_of(*mine);
    if (!base_) return std::nullopt;
    if (auto it = find_key(base_->items, key); it != base_->items.end()) return value_of(*it);
    return std::nullopt;
}

std::vector<std::string> Environment::entries() const {
    std::vector<std::string> out;
    out.reserve(size_hint());
    for_each([&](const char* entry) { out.emplace_back(entry); });
    return out;
}

bool Environment::operator==(const Environment& other) const {
    if (own_ == other.own_) {
        // At a reload: a base made again from the same environ.
        if (base_ == other.base_) return true;
        if (base_ && other.base_ && base_->text == other.base_->text) return true;
    }
    return entries() == other.entries();
}

}  // namespace sv
