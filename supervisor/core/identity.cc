// The identity rules: see identity.h.
#include "identity.h"

namespace sv {

IdParse parse_id(std::string_view text, std::uint32_t* id) {
    if (text.empty()) return IdParse::Empty;
    std::uint64_t n = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return IdParse::Name;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
        // Keep going (so "12ab" is a name), but never overflow.
        if (n > kMaxId) n = std::uint64_t{kMaxId} + 1;
    }
    if (n > kMaxId) return IdParse::OutOfRange;
    if (id) *id = static_cast<std::uint32_t>(n);
    return IdParse::Number;
}

Identity decide_identity(const std::string& user, const std::optional<UserEntry>& user_entry,
                         const std::string& group, std::optional<std::uint32_t> group_id) {
    Identity id;
    if (!user.empty()) {
        std::uint32_t number = 0;
        const IdParse kind = parse_id(user, &number);
        if (user_entry) {
            id.uid = user_entry->uid;
            id.gid = user_entry->gid;
            id.groups = user_entry->groups;
            id.name = user_entry->name;
            id.home = user_entry->home;
            id.set_group = true;
        } else if (kind == IdParse::Number) {
            // Never keep the supervisor's (root's) group or HOME by accident;
            // HOME=/ as Docker does for a user without an entry.
            id.uid = number;
            id.gid = number;
            id.set_group = true;
            id.name = user;
            id.home.assign(1, '/');  // not = "/": GCC 12 -Wrestrict false positive
        } else {
            id.error = "unknown user '" + user + "'";
            return id;
        }
        id.set_user = true;
        id.set_groups = true;
    }
    if (!group.empty()) {
        if (!group_id) {
            id.error = "unknown group '" + group + "'";
            return id;
        }
        id.gid = *group_id;
        id.set_group = true;
        if (!id.set_user) {
            id.groups = {id.gid};
            id.set_groups = true;
        }
    }
    return id;
}

}  // namespace sv
