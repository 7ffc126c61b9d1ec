// Who a service runs as: the rules, apart from the lookups.
//
// `user` and `group` are written as names or as numeric ids (an integer or
// a string of digits, one rule for both). A numeric id must fit in 32 bits
// and may not be 4294967295, which the kernel reads as "unchanged": it is
// rejected where the configuration is parsed, so no id can ever wrap round
// to 0 (root). Names are looked up by the OS layer (NSS) once per
// configuration load; decide_identity() then applies the rules:
//   - a user found in the password database brings its primary group, its
//     supplementary groups, and HOME/USER/LOGNAME for the environment;
//   - a numeric user without an entry runs with gid = uid, no
//     supplementary groups, HOME=/ and USER/LOGNAME set to the number
//     (as Docker does);
//   - `group` replaces the primary group; without `user` it is also the
//     only supplementary group (the supervisor's own are dropped).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sv {

// The largest id accepted (4294967295 = (uid_t)-1 means "unchanged").
inline constexpr std::uint32_t kMaxId = 4294967294U;

enum class IdParse { Name, Number, OutOfRange, Empty };

// Classifies the text of a `user`/`group` value; for Number, `id` is set.
IdParse parse_id(std::string_view text, std::uint32_t* id = nullptr);

// What the password / group database said (looked up by the OS layer).
struct UserEntry {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::string name;
    std::string home;
    std::vector<std::uint32_t> groups;  // supplementary, primary included
};

struct Identity {
    bool set_user = false;
    bool set_group = false;
    bool set_groups = false;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::vector<std::uint32_t> groups;
    std::string name;   // for USER/LOGNAME; empty: leave them alone
    std::string home;   // for HOME
    std::string error;  // "unknown user 'app'": the service cannot start
    bool operator==(const Identity&) const = default;
};

// `user`/`group` as configured (empty: not set), and what the lookups found
// (nullopt: no entry). A numeric group needs no entry.
Identity decide_identity(const std::string& user, const std::optional<UserEntry>& user_entry,
                         const std::string& group, std::optional<std::uint32_t> group_id);

}  // namespace sv
