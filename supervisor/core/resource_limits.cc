// Resource limit names: see limits.h.
#include "resource_limits.h"

#include <array>
#include <string>

namespace sv {

namespace {

struct Named {
    Resource resource;
    const char* name;
};

constexpr std::array<Named, 16> kNames = {{
    {Resource::As, "as"},
    {Resource::Core, "core"},
    {Resource::Cpu, "cpu"},
    {Resource::Data, "data"},
    {Resource::Fsize, "fsize"},
    {Resource::Locks, "locks"},
    {Resource::Memlock, "memlock"},
    {Resource::Msgqueue, "msgqueue"},
    {Resource::Nice, "nice"},
    {Resource::Nofile, "nofile"},
    {Resource::Nproc, "nproc"},
    {Resource::Rss, "rss"},
    {Resource::Rtprio, "rtprio"},
    {Resource::Rttime, "rttime"},
    {Resource::Sigpending, "sigpending"},
    {Resource::Stack, "stack"},
}};

std::string value_text(std::uint64_t v) {
    return v == kUnlimited ? "unlimited" : std::to_string(v);
}

}  // namespace

const char* resource_name(Resource r) {
    for (const Named& n : kNames)
        if (n.resource == r) return n.name;
    return "?";
}

std::optional<Resource> parse_resource(std::string_view name) {
    for (const Named& n : kNames)
        if (name == n.name) return n.resource;
    return std::nullopt;
}

std::vector<std::string_view> resource_names() {
    std::vector<std::string_view> out;
    for (const Named& n : kNames) out.push_back(n.name);
    return out;
}

std::string limit_text(const Limit& limit) {
    if (limit.soft == limit.hard) return value_text(limit.soft);
    return "[" + value_text(limit.soft) + ", " + value_text(limit.hard) + "]";
}

std::vector<Limit> merge_limits(const std::vector<Limit>& base,
                                const std::vector<Limit>& overrides) {
    std::vector<Limit> out;
    for (const Limit& b : base) {
        bool replaced = false;
        for (const Limit& o : overrides) replaced = replaced || o.resource == b.resource;
        if (!replaced) out.push_back(b);
    }
    out.insert(out.end(), overrides.begin(), overrides.end());
    return out;
}

}  // namespace sv
