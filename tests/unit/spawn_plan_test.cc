// Spawn plans (core/spawn_plan.h): everything about starting a process that
// is decided before fork: the environment by its precedence, where the
// program is looked for, the stdio wiring, and errors known in advance.
#include "spawn_plan.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace sv {
namespace {

using Env = std::vector<std::string>;

Identity app_identity() {
    Identity id;
    id.set_user = id.set_group = id.set_groups = true;
    id.uid = 1000;
    id.gid = 1000;
    id.name = "app";
    id.home = "/home/app";
    return id;
}

ServiceConfig service(std::vector<std::string> argv = {"/usr/bin/app"}) {
    ServiceConfig s;
    s.name = "app";
    s.argv = std::move(argv);
    return s;
}

// ---- build_environment -------------------------------------------------------

// What a process gets: the merge of the base and the plan's own entries.
Env entries(const Environment& env) {
    return env.entries();
}

Env built(const Environment& base, const Identity& identity, const std::string& notify,
          const std::vector<std::pair<std::string, std::string>>& env) {
    return build_environment(base, identity, notify, env).entries();
}

TEST(BuildEnvironment, BaseAloneIsCopied) {
    EXPECT_EQ(built({"A=1", "B=two words"}, Identity{}, "", {}), (Env{"A=1", "B=two words"}));
}

TEST(BuildEnvironment, IdentityOverridesTheBase) {
    const Env env =
        built({"HOME=/root", "LOGNAME=root", "USER=root", "X=1"}, app_identity(), "", {});
    EXPECT_EQ(env, (Env{"HOME=/home/app", "LOGNAME=app", "USER=app", "X=1"}));
}

TEST(BuildEnvironment, IdentityWithoutANameLeavesThemAlone) {
    // An identity without a name (no user configured) changes nothing.
    Identity numeric;
    numeric.set_user = true;
    numeric.uid = 1234;
    const Env env = built({"HOME=/root", "USER=root"}, numeric, "", {});
    EXPECT_EQ(env, (Env{"HOME=/root", "USER=root"}));
}

TEST(BuildEnvironment, NotifySocketOverridesTheIdentityAndTheBase) {
    const Env env = built({"NOTIFY_SOCKET=/run/outer"}, app_identity(), "/run/sv/app.sock", {});
    EXPECT_EQ(env,
              (Env{"HOME=/home/app", "LOGNAME=app", "NOTIFY_SOCKET=/run/sv/app.sock", "USER=app"}));
}

TEST(BuildEnvironment, ServiceEnvWinsOverEverything) {
    const Env env = built({"A=base", "HOME=/root"}, app_identity(), "/run/sv/app.sock",
                          {{"A", "svc"},
                           {"HOME", "/srv/app"},
                           {"NOTIFY_SOCKET", "/run/custom.sock"},
                           {"USER", "svc-user"}});
    EXPECT_EQ(env, (Env{"A=svc", "HOME=/srv/app", "LOGNAME=app", "NOTIFY_SOCKET=/run/custom.sock",
                        "USER=svc-user"}));
}

TEST(BuildEnvironment, BaseNotifySocketNeverLeaks) {
    // It belongs to whoever started the supervisor: a service that used it
    // would report readiness for the supervisor itself.
    Env env = built({"NOTIFY_SOCKET=/run/systemd/notify", "A=1"}, Identity{}, "", {});
    EXPECT_EQ(env, (Env{"A=1"}));
    env = built({"NOTIFY_SOCKET=/run/systemd/notify"}, app_identity(), "", {});
    EXPECT_EQ(env, (Env{"HOME=/home/app", "LOGNAME=app", "USER=app"}));
}

TEST(BuildEnvironment, SortedByKey) {
    // By key, not by the whole "KEY=VALUE" string: "A" sorts before "A-B"
    // although '-' sorts before '='.
    const Env env = built({"Z=1", "A-B=2", "M=3"}, Identity{}, "", {{"A", "4"}});
    EXPECT_EQ(env, (Env{"A=4", "A-B=2", "M=3", "Z=1"}));
}

TEST(BuildEnvironment, ADuplicatedBaseKeyKeepsTheLastAndServiceKeysSortIn) {
    // "A-B" sorts before "A=" character by character but after "A" by key:
    // the order is by key, as the map it replaced kept it.
    EXPECT_EQ(built({"B=1", "A=first", "C=3", "A=last"}, Identity{}, "",
                    {{"AB", "x"}, {"A-B", "y"}, {"0", "z"}}),
              (Env{"0=z", "A=last", "A-B=y", "AB=x", "B=1", "C=3"}));
}

TEST(BuildEnvironment, DuplicatesInAnAlreadySortedBaseKeepTheLast) {
    // Sorted already (the sort is skipped): duplicates are still folded.
    EXPECT_EQ(built({"A=1", "A=2", "A=3", "B=x", "B=y"}, Identity{}, "", {}), (Env{"A=3", "B=y"}));
}

TEST(BuildEnvironment, EntriesWithoutEqualsAreDropped) {
    EXPECT_EQ(built({"JUNK", "A=1", "EMPTY="}, Identity{}, "", {}), (Env{"A=1", "EMPTY="}));
}

// ---- Environment -----------------------------------------------------------------

TEST(Environment, TheBaseIsSortedOnePerKeyTheLastWinsAndNotifySocketKept) {
    // The run's base: normalized once, filtered per service later.
    const Environment base{"Z=1", "NOTIFY_SOCKET=/n", "A=x", "JUNK", "A=y"};
    EXPECT_EQ(entries(base), (Env{"A=y", "NOTIFY_SOCKET=/n", "Z=1"}));
    EXPECT_EQ(entries(Environment(entries(base))), entries(base));
    EXPECT_EQ(built(base, Identity{}, "", {}), (Env{"A=y", "Z=1"}));
}

TEST(Environment, LongKeysSharingTheirFirstEightBytesSortByTheRest) {
    // The sort decides by the first eight bytes where it can; past them the
    // whole key decides, and a key that is a prefix of another comes first.
    const Environment env{"XDG_SESSION_TYPE=tty", "XDG_SESSION_ID=3", "XDG_SESS=1",
                          "XDG_SESSION=2",        "XDG_SESSION_ID=4", "XDG_SES=0"};
    EXPECT_EQ(entries(env), (Env{"XDG_SES=0", "XDG_SESS=1", "XDG_SESSION=2", "XDG_SESSION_ID=4",
                                 "XDG_SESSION_TYPE=tty"}));
}

TEST(Environment, BytesSortAsUnsignedAndAPrefixFirst) {
    const Environment env{"\xc3\xa9=2", "e=1", "B=0", "BB=3", "B_=4"};
    EXPECT_EQ(entries(env), (Env{"B=0", "BB=3", "B_=4", "e=1", "\xc3\xa9=2"}));
}

TEST(Environment, SetEraseAndValueOverTheBase) {
    Environment env{"A=1", "B=2", "C=3"};
    env.set("B", "two");
    env.set("D", "4");
    env.erase("C");
    env.erase("E");  // not there at all: nothing
    EXPECT_EQ(entries(env), (Env{"A=1", "B=two", "D=4"}));
    EXPECT_EQ(env.value("B"), "two");
    EXPECT_EQ(env.value("A"), "1");
    EXPECT_FALSE(env.value("C").has_value());
    env.set("C", "back");  // over the hidden key
    env.erase("D");        // one of its own, not in the base
    EXPECT_EQ(entries(env), (Env{"A=1", "B=two", "C=back"}));
}

TEST(Environment, EqualByWhatAProcessGets) {
    // Two loads of a configuration make two bases: plans compare by content.
    Environment a{"A=1", "B=2"};
    Environment b{"B=2"};
    EXPECT_FALSE(a == b);
    b.set("A", "1");
    EXPECT_TRUE(a == b);
    Environment c = a;  // the same base, shared
    EXPECT_TRUE(a == c);
    c.erase("A");
    EXPECT_FALSE(a == c);
}

TEST(Environment, EntriesAreNulTerminatedForExecve) {
    Environment env{"A=1", "LONG_ENOUGH_NOT_TO_BE_SHORT=x"};
    env.set("B", "2");
    std::vector<std::string> seen;
    env.for_each([&](const char* e) { seen.emplace_back(e); });  // up to each NUL
    EXPECT_EQ(seen, (Env{"A=1", "B=2", "LONG_ENOUGH_NOT_TO_BE_SHORT=x"}));
}

// ---- Environment::value ------------------------------------------------------------

TEST(EnvValue, FindsTheExactKey) {
    const Environment env{"PATHX=/wrong", "PATH=/usr/bin", "P=/also-wrong"};
    ASSERT_TRUE(env.value("PATH").has_value());
    EXPECT_EQ(*env.value("PATH"), "/usr/bin");
    EXPECT_FALSE(env.value("PAT").has_value());
    EXPECT_FALSE(env.value("HOME").has_value());
}

TEST(EnvValue, EmptyValueIsPresent) {
    const Environment env{"EMPTY=", "NOEQUALS"};
    ASSERT_TRUE(env.value("EMPTY").has_value());
    EXPECT_EQ(*env.value("EMPTY"), "");
    EXPECT_FALSE(env.value("NOEQUALS").has_value());
}

// ---- exec_search_paths --------------------------------------------------------

TEST(ExecSearchPaths, ASlashMeansAsIs) {
    const Environment env{"PATH=/usr/bin:/bin"};
    EXPECT_EQ(exec_search_paths("/opt/app/bin/app", env), (Env{"/opt/app/bin/app"}));
    EXPECT_EQ(exec_search_paths("./app", env), (Env{"./app"}));
    EXPECT_EQ(exec_search_paths("bin/app", env), (Env{"bin/app"}));
}

TEST(ExecSearchPaths, EachPathDirectoryInOrder) {
    EXPECT_EQ(exec_search_paths("app", {"PATH=/opt/app/bin:/usr/bin:/bin"}),
              (Env{"/opt/app/bin/app", "/usr/bin/app", "/bin/app"}));
}

TEST(ExecSearchPaths, PathComesFromTheGivenEnvironment) {
    // Only the list passed in counts, never the supervisor's own PATH.
    EXPECT_EQ(exec_search_paths("app", {"HOME=/", "PATH=/only/here"}), (Env{"/only/here/app"}));
}

TEST(ExecSearchPaths, EmptyEntriesMeanTheCurrentDirectory) {
    EXPECT_EQ(exec_search_paths("app", {"PATH=/a::/b"}), (Env{"/a/app", "./app", "/b/app"}));
    EXPECT_EQ(exec_search_paths("app", {"PATH=:/a"}), (Env{"./app", "/a/app"}));
    EXPECT_EQ(exec_search_paths("app", {"PATH=/a:"}), (Env{"/a/app", "./app"}));
    EXPECT_EQ(exec_search_paths("app", {"PATH="}), (Env{"./app"}));
}

TEST(ExecSearchPaths, UnsetPathUsesTheDefault) {
    EXPECT_EQ(exec_search_paths("app", {"HOME=/root"}),
              (Env{"/usr/local/bin/app", "/usr/bin/app", "/bin/app"}));
    EXPECT_EQ(exec_search_paths("app", Environment{}),
              (Env{"/usr/local/bin/app", "/usr/bin/app", "/bin/app"}));
}

// ---- plan_service ----------------------------------------------------------------

TEST(PlanService, StdioFollowsTheLogMode) {
    const RunContext context;
    ServiceConfig s = service();
    s.log = LogMode::Prefix;
    SpawnPlan p = plan_service(s, context, 0, false);
    EXPECT_EQ(p.stdin_mode, StdioMode::Null);
    EXPECT_EQ(p.stdout_mode, StdioMode::Pipe);
    EXPECT_EQ(p.stderr_mode, StdioMode::Pipe);

    s.log = LogMode::Inherit;
    p = plan_service(s, context, 0, false);
    EXPECT_EQ(p.stdin_mode, StdioMode::Null);
    EXPECT_EQ(p.stdout_mode, StdioMode::Inherit);
    EXPECT_EQ(p.stderr_mode, StdioMode::Inherit);

    s.log = LogMode::Null;
    p = plan_service(s, context, 0, false);
    EXPECT_EQ(p.stdin_mode, StdioMode::Null);
    EXPECT_EQ(p.stdout_mode, StdioMode::Null);
    EXPECT_EQ(p.stderr_mode, StdioMode::Null);
}

TEST(PlanService, ForegroundInheritsStdin) {
    // Single-command mode: the command owns the terminal, as under tini.
    ServiceConfig s = service();
    s.log = LogMode::Inherit;
    const SpawnPlan p = plan_service(s, RunContext{}, 0, true);
    EXPECT_TRUE(p.foreground);
    EXPECT_EQ(p.stdin_mode, StdioMode::Inherit);
    EXPECT_FALSE(plan_service(s, RunContext{}, 0, false).foreground);
}

TEST(PlanService, CopiesArgvWorkdirUserAndGroup) {
    ServiceConfig s = service({"/usr/bin/app", "--port", "8080"});
    s.workdir = "/srv/app";
    s.user = "app";
    s.group = "web";
    const SpawnPlan p = plan_service(s, RunContext{}, 0, false);
    EXPECT_EQ(p.argv, (Env{"/usr/bin/app", "--port", "8080"}));
    EXPECT_EQ(p.workdir, "/srv/app");
    EXPECT_EQ(p.user, "app");
    EXPECT_EQ(p.group, "web");
    EXPECT_EQ(p.exec_paths, (Env{"/usr/bin/app"}));
    EXPECT_EQ(p.error, "");
}

TEST(PlanService, UsesTheSetupOfItsOwnIndex) {
    RunContext context;
    context.base_env = {"PATH=/usr/bin", "USER=root"};
    context.setups.resize(2);
    context.setups[1].identity = app_identity();
    context.setups[1].notify_socket = "/run/sv/1.sock";
    const SpawnPlan p = plan_service(service(), context, 1, false);
    EXPECT_EQ(p.identity.uid, 1000u);
    EXPECT_EQ(p.notify_socket, "/run/sv/1.sock");
    EXPECT_EQ(entries(p.env), (Env{"HOME=/home/app", "LOGNAME=app", "NOTIFY_SOCKET=/run/sv/1.sock",
                                   "PATH=/usr/bin", "USER=app"}));
    // Service 0 has a setup of its own, empty.
    EXPECT_EQ(entries(plan_service(service(), context, 0, false).env),
              (Env{"PATH=/usr/bin", "USER=root"}));
}

TEST(PlanService, NoSetupsInTheContext) {
    // Unit tests and `check` run without setups: nothing is looked up.
    RunContext context;
    context.base_env = {"A=1"};
    const SpawnPlan p = plan_service(service(), context, 5, false);
    EXPECT_EQ(entries(p.env), (Env{"A=1"}));
    EXPECT_FALSE(p.identity.set_user);
    EXPECT_EQ(p.error, "");
}

TEST(PlanService, SetupErrorBecomesThePlanError) {
    RunContext context;
    context.setups.resize(1);
    context.setups[0].error = "cannot create the notify socket: No space left on device";
    EXPECT_EQ(plan_service(service(), context, 0, false).error,
              "cannot create the notify socket: No space left on device");
}

TEST(PlanService, IdentityErrorBecomesThePlanError) {
    RunContext context;
    context.setups.resize(1);
    context.setups[0].identity.error = "unknown user 'app'";
    EXPECT_EQ(plan_service(service(), context, 0, false).error, "unknown user 'app'");
    // A setup error is reported first.
    context.setups[0].error = "cannot create the notify socket: x";
    EXPECT_EQ(plan_service(service(), context, 0, false).error,
              "cannot create the notify socket: x");
}

TEST(PlanService, ExecPathsFollowTheServicesOwnPath) {
    RunContext context;
    context.base_env = {"PATH=/usr/bin:/bin"};
    ServiceConfig s = service({"app", "serve"});
    s.env = {{"PATH", "/opt/app/bin:/usr/bin"}};
    const SpawnPlan p = plan_service(s, context, 0, false);
    EXPECT_EQ(p.exec_paths, (Env{"/opt/app/bin/app", "/usr/bin/app"}));
    EXPECT_EQ(p.env.value("PATH"), "/opt/app/bin:/usr/bin");
}

TEST(PlanService, EmptyArgvHasNoExecPaths) {
    const SpawnPlan p = plan_service(service({}), RunContext{}, 0, false);
    EXPECT_TRUE(p.exec_paths.empty());
}

// ---- plan_probe ------------------------------------------------------------------

TEST(PlanProbe, StdioIsAllNull) {
    const SpawnPlan p = plan_probe({"/bin/check"}, RunContext{});
    EXPECT_EQ(p.stdin_mode, StdioMode::Null);
    EXPECT_EQ(p.stdout_mode, StdioMode::Null);
    EXPECT_EQ(p.stderr_mode, StdioMode::Null);
    EXPECT_FALSE(p.foreground);  // a session of its own
    EXPECT_EQ(p.workdir, "");
    EXPECT_EQ(p.error, "");
}

TEST(PlanProbe, SupervisorsEnvironmentWithoutNotifySocket) {
    RunContext context;
    context.base_env = {"PATH=/usr/bin:/bin", "NOTIFY_SOCKET=/run/systemd/notify", "A=1"};
    const SpawnPlan p = plan_probe({"check", "--quick"}, context);
    EXPECT_EQ(entries(p.env), (Env{"A=1", "PATH=/usr/bin:/bin"}));
    EXPECT_EQ(p.notify_socket, "");
    EXPECT_EQ(p.argv, (Env{"check", "--quick"}));
    EXPECT_EQ(p.exec_paths, (Env{"/usr/bin/check", "/bin/check"}));
    EXPECT_FALSE(p.identity.set_user);
}

}  // namespace
}  // namespace sv
