// NSS lookups for service identities: see identity_lookup.h.
#include "identity_lookup.h"

#include <grp.h>
#include <pwd.h>

#include <vector>

#include "name_service.h"

namespace sv {

namespace {

std::optional<UserEntry> find_user(const std::string& user) {
    prepare_name_service();
    std::uint32_t number = 0;
    const struct passwd* pw = parse_id(user, &number) == IdParse::Number
                                  ? ::getpwuid(static_cast<uid_t>(number))
                                  : ::getpwnam(user.c_str());
    if (!pw) return std::nullopt;
    UserEntry e;
    e.uid = pw->pw_uid;
    e.gid = pw->pw_gid;
    e.name = pw->pw_name;
    e.home = pw->pw_dir;
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<std::size_t>(n));
        ::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n);
    }
    groups.resize(static_cast<std::size_t>(n));
    e.groups.assign(groups.begin(), groups.end());
    return e;
}

std::optional<std::uint32_t> find_group(const std::string& group) {
    std::uint32_t number = 0;
    if (parse_id(group, &number) == IdParse::Number) return number;  // needs no entry
    prepare_name_service();
    const struct group* gr = ::getgrnam(group.c_str());
    if (!gr) return std::nullopt;
    return gr->gr_gid;
}

}  // namespace

Identity lookup_identity(const ServiceConfig& service) {
    std::optional<UserEntry> user;
    if (!service.user.empty()) user = find_user(service.user);
    std::optional<std::uint32_t> group;
    if (!service.group.empty()) group = find_group(service.group);
    return decide_identity(service.user, user, service.group, group);
}

}  // namespace sv
