// Who a service runs as (core/identity.h): the text of `user`/`group`, and
// the rules applied to what the password and group databases said. The
// rules matter for security: no id may ever wrap round to 0 (root), and a
// service must never keep the supervisor's own (root's) groups by accident.
#include "identity.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sv {
namespace {

using Groups = std::vector<std::uint32_t>;

UserEntry app_entry() {
    UserEntry e;
    e.uid = 1000;
    e.gid = 1001;
    e.name = "app";
    e.home = "/home/app";
    e.groups = {1001, 27, 100};
    return e;
}

// ---- parse_id ------------------------------------------------------------------

TEST(ParseId, Names) {
    EXPECT_EQ(parse_id("app"), IdParse::Name);
    EXPECT_EQ(parse_id("www-data"), IdParse::Name);
    EXPECT_EQ(parse_id("_apt"), IdParse::Name);
}

TEST(ParseId, Numbers) {
    std::uint32_t id = 77;
    EXPECT_EQ(parse_id("1000", &id), IdParse::Number);
    EXPECT_EQ(id, 1000u);
    EXPECT_EQ(parse_id("0", &id), IdParse::Number);
    EXPECT_EQ(id, 0u);
    EXPECT_EQ(parse_id("007", &id), IdParse::Number);
    EXPECT_EQ(id, 7u);
    EXPECT_EQ(parse_id("65534"), IdParse::Number);  // the id pointer is optional
}

TEST(ParseId, LargestAcceptedId) {
    std::uint32_t id = 0;
    EXPECT_EQ(parse_id("4294967294", &id), IdParse::Number);
    EXPECT_EQ(id, kMaxId);
}

TEST(ParseId, OutOfRangeNeverWraps) {
    // 4294967295 is (uid_t)-1, "unchanged" to setuid(); 4294967296 would
    // wrap to 0 (root) in 32 bits; 21 digits overflow even 64 bits.
    for (const char* s :
         {"4294967295", "4294967296", "18446744073709551616", "999999999999999999999"}) {
        std::uint32_t id = 12345;
        EXPECT_EQ(parse_id(s, &id), IdParse::OutOfRange) << s;
        EXPECT_EQ(id, 12345u) << s;  // left alone: never a wrapped value
    }
}

TEST(ParseId, Empty) {
    EXPECT_EQ(parse_id(""), IdParse::Empty);
}

TEST(ParseId, DigitsFollowedByLettersAreAName) {
    std::uint32_t id = 5;
    EXPECT_EQ(parse_id("12ab", &id), IdParse::Name);
    EXPECT_EQ(id, 5u);
    // Even when the digits alone would be out of range.
    EXPECT_EQ(parse_id("99999999999999999999x"), IdParse::Name);
}

TEST(ParseId, SignsMakeAName) {
    // "-1" is not a number here (it would be "unchanged"): it is looked up
    // as a name, and fails as one.
    EXPECT_EQ(parse_id("-1"), IdParse::Name);
    EXPECT_EQ(parse_id("+5"), IdParse::Name);
    EXPECT_EQ(parse_id(" 5"), IdParse::Name);
}

// ---- decide_identity ---------------------------------------------------------

TEST(DecideIdentity, NothingConfiguredChangesNothing) {
    const Identity id = decide_identity("", std::nullopt, "", std::nullopt);
    EXPECT_FALSE(id.set_user);
    EXPECT_FALSE(id.set_group);
    EXPECT_FALSE(id.set_groups);
    EXPECT_EQ(id.name, "");
    EXPECT_EQ(id.error, "");
}

TEST(DecideIdentity, UserWithPasswdEntry) {
    const Identity id = decide_identity("app", app_entry(), "", std::nullopt);
    EXPECT_EQ(id.error, "");
    EXPECT_TRUE(id.set_user);
    EXPECT_TRUE(id.set_group);
    EXPECT_TRUE(id.set_groups);
    EXPECT_EQ(id.uid, 1000u);
    EXPECT_EQ(id.gid, 1001u);
    EXPECT_EQ(id.groups, (Groups{1001, 27, 100}));
    EXPECT_EQ(id.name, "app");
    EXPECT_EQ(id.home, "/home/app");
}

TEST(DecideIdentity, NumericUserWithAnEntryTakesTheEntry) {
    // "1000" that names a real user brings that user's groups and HOME.
    const Identity id = decide_identity("1000", app_entry(), "", std::nullopt);
    EXPECT_EQ(id.uid, 1000u);
    EXPECT_EQ(id.gid, 1001u);
    EXPECT_EQ(id.groups, (Groups{1001, 27, 100}));
    EXPECT_EQ(id.name, "app");
}

TEST(DecideIdentity, NumericUserWithoutEntry) {
    // No entry: gid = uid and no supplementary groups, so root's group and
    // root's supplementary groups are not kept by accident; HOME=/ and the
    // number as USER/LOGNAME, as Docker does, rather than root's.
    const Identity id = decide_identity("1234", std::nullopt, "", std::nullopt);
    EXPECT_EQ(id.error, "");
    EXPECT_TRUE(id.set_user);
    EXPECT_TRUE(id.set_group);
    EXPECT_TRUE(id.set_groups);
    EXPECT_EQ(id.uid, 1234u);
    EXPECT_EQ(id.gid, 1234u);
    EXPECT_TRUE(id.groups.empty());
    EXPECT_EQ(id.name, "1234");
    EXPECT_EQ(id.home, "/");
}

TEST(DecideIdentity, UidZeroOnlyWhenAskedFor) {
    const Identity root = decide_identity("0", std::nullopt, "", std::nullopt);
    EXPECT_TRUE(root.set_user);
    EXPECT_EQ(root.uid, 0u);
    // An id that would wrap is no number at all: the user is unknown and
    // the service cannot start, rather than running as root.
    for (const char* s : {"4294967295", "4294967296"}) {
        const Identity id = decide_identity(s, std::nullopt, "", std::nullopt);
        EXPECT_EQ(id.error, std::string("unknown user '") + s + "'");
        EXPECT_FALSE(id.set_user) << s;
    }
}

TEST(DecideIdentity, UnknownUserName) {
    const Identity id = decide_identity("x", std::nullopt, "", std::nullopt);
    EXPECT_EQ(id.error, "unknown user 'x'");
    EXPECT_FALSE(id.set_user);
    EXPECT_FALSE(id.set_group);
    EXPECT_FALSE(id.set_groups);
}

TEST(DecideIdentity, GroupByNumberWithoutEntry) {
    // The OS layer passes a numeric group through without a lookup.
    const Identity id = decide_identity("", std::nullopt, "4000", 4000u);
    EXPECT_EQ(id.error, "");
    EXPECT_TRUE(id.set_group);
    EXPECT_EQ(id.gid, 4000u);
}

TEST(DecideIdentity, UnknownGroup) {
    Identity id = decide_identity("", std::nullopt, "g", std::nullopt);
    EXPECT_EQ(id.error, "unknown group 'g'");
    // Also with a valid user: the service cannot start either way.
    id = decide_identity("app", app_entry(), "g", std::nullopt);
    EXPECT_EQ(id.error, "unknown group 'g'");
}

TEST(DecideIdentity, GroupWithoutUserIsTheOnlyGroup) {
    // The supervisor's own supplementary groups (root's) are dropped.
    const Identity id = decide_identity("", std::nullopt, "web", 33u);
    EXPECT_FALSE(id.set_user);
    EXPECT_TRUE(id.set_group);
    EXPECT_TRUE(id.set_groups);
    EXPECT_EQ(id.gid, 33u);
    EXPECT_EQ(id.groups, (Groups{33}));
    EXPECT_EQ(id.name, "");
}

TEST(DecideIdentity, GroupWithUserReplacesThePrimaryGroup) {
    const Identity id = decide_identity("app", app_entry(), "web", 33u);
    EXPECT_EQ(id.error, "");
    EXPECT_TRUE(id.set_user);
    EXPECT_EQ(id.uid, 1000u);
    EXPECT_EQ(id.gid, 33u);
    // The user's supplementary groups are kept as the database gave them.
    EXPECT_EQ(id.groups, (Groups{1001, 27, 100}));
    EXPECT_EQ(id.name, "app");
    EXPECT_EQ(id.home, "/home/app");
}

TEST(DecideIdentity, GroupWithNumericUserWithoutEntry) {
    const Identity id = decide_identity("1234", std::nullopt, "web", 33u);
    EXPECT_EQ(id.uid, 1234u);
    EXPECT_EQ(id.gid, 33u);
    EXPECT_TRUE(id.groups.empty());
}

}  // namespace
}  // namespace sv
