// Process resource limits (setrlimit) as the configuration names them:
// `limits = { nofile = 65536, core = 0, memlock = "unlimited",
// nproc = [1024, 4096] }` (the RLIMIT_ names without the prefix, in lower
// case; a number sets soft = hard, a pair [soft, hard]). The OS layer maps
// Resource to RLIMIT_* and applies them in the child before exec.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace sv {

enum class Resource {
    As,
    Core,
    Cpu,
    Data,
    Fsize,
    Locks,
    Memlock,
    Msgqueue,
    Nice,
    Nofile,
    Nproc,
    Rss,
    Rtprio,
    Rttime,
    Sigpending,
    Stack,
};

inline constexpr std::uint64_t kUnlimited = UINT64_MAX;

struct Limit {
    Resource resource;
    std::uint64_t soft;  // kUnlimited: RLIM_INFINITY
    std::uint64_t hard;
    bool operator==(const Limit&) const = default;
};

// "nofile", "core", …
const char* resource_name(Resource r);
std::optional<Resource> parse_resource(std::string_view name);
std::vector<std::string_view> resource_names();

// "65536", "unlimited", "[1024, 4096]": for messages.
std::string limit_text(const Limit& limit);

// `base` with each limit of `overrides` replacing the one for its resource.
std::vector<Limit> merge_limits(const std::vector<Limit>& base,
                                const std::vector<Limit>& overrides);

}  // namespace sv
