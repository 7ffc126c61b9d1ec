// Live reload (supervisor_reload.cc): added services start in dependency
// order, removed ones stop (their removed dependents first), changed ones
// stop and start with their new definition, unchanged ones keep their
// process. Replayed against FakeSys.
#include <gtest/gtest.h>

#include <csignal>

#include "fake_sys.h"

using namespace sv;
using namespace sv::test;
using namespace std::chrono_literals;

namespace {

struct Reloaded {
    ReloadSummary summary;
    std::string error;
    bool ok = false;
};

Reloaded reload(Harness& h, const Config& next) {
    Reloaded r;
    r.ok = h.sup.reload(next, RunContext{}, r.summary, r.error);
    return r;
}

Pid pid_of(Harness& h, const std::string& name) {
    const Service* s = h.sup.find_name(name);
    return s ? s->pid() : -1;
}

ServiceState state_of(Harness& h, const std::string& name) {
    return h.sup.find_name(name)->state();
}

void up(Harness& h) {
    h.sup.start();
    for (const auto& s : h.config.services) h.exec_ok(s.name);
}

// The newest spawn of a service that has one (FakeSys keys its pids by id).
void exec_ok_id(Harness& h, const std::string& name) {
    h.sup.on_exec_result(pid_of(h, name), ExecResult::ok());
}

}  // namespace

TEST(Reload, UnchangedServicesKeepTheirProcess) {
    ConfigBuilder b;
    b.add("db");
    b.add("api", {"db"});
    Harness h(b.config);
    up(h);
    const Pid db = pid_of(h, "db"), api = pid_of(h, "api");
    ConfigBuilder same;
    same.add("db").pos = {7, 1};  // moved in the file: still the same
    same.add("api", {"db"});
    const Reloaded r = reload(h, same.config);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.summary.text(), "added: -; removed: -; restarted: -; unchanged: 2");
    EXPECT_EQ(pid_of(h, "db"), db);
    EXPECT_EQ(pid_of(h, "api"), api);
    EXPECT_TRUE(h.sys.kills.empty());
    EXPECT_EQ(h.sys.spawned.size(), 2u);
}

TEST(Reload, AddedRemovedChangedAndUnchanged) {
    ConfigBuilder b;
    b.add("db");
    b.add("api", {"db"});
    b.add("old");
    b.add("cron");
    Harness h(b.config);
    up(h);
    const Pid db = pid_of(h, "db"), api = pid_of(h, "api"), old = pid_of(h, "old"),
              cron = pid_of(h, "cron");
    ConfigBuilder next;
    next.add("db");
    next.add("api", {"db"}).stop_grace = 3s;  // changed
    next.add("cron");
    next.add("web", {"api"});  // added
    const Reloaded r = reload(h, next.config);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.summary.text(), "added: web; removed: old; restarted: api; unchanged: 2");
    EXPECT_TRUE(h.logged("reloaded"));
    // Removed and changed ones get their stop signal; the others nothing.
    EXPECT_EQ(h.sys.signals_to(old), (std::vector<int>{SIGTERM}));
    EXPECT_EQ(h.sys.signals_to(api), (std::vector<int>{SIGTERM}));
    EXPECT_TRUE(h.sys.signals_to(db).empty());
    EXPECT_TRUE(h.sys.signals_to(cron).empty());
    // web waits for the new api.
    EXPECT_EQ(state_of(h, "web"), ServiceState::Pending);
    h.sys.alive_groups.erase(old);
    h.sup.on_child_exit(old, ExitStatus::killed(SIGTERM));
    EXPECT_EQ(h.sup.find_name("old"), nullptr);  // gone once down
    h.sys.alive_groups.erase(api);
    h.sup.on_child_exit(api, ExitStatus::killed(SIGTERM));
    EXPECT_EQ(state_of(h, "api"), ServiceState::Starting);
    EXPECT_NE(pid_of(h, "api"), api);
    EXPECT_EQ(h.sup.find_name("api")->config().stop_grace, 3s);
    exec_ok_id(h, "api");
    EXPECT_EQ(state_of(h, "web"), ServiceState::Starting);
    EXPECT_EQ(pid_of(h, "db"), db);
    EXPECT_EQ(pid_of(h, "cron"), cron);
    EXPECT_FALSE(h.sup.shutting_down());
}

TEST(Reload, ADependencyEdgeThatMovedRestartsOnlyTheServiceItBelongsTo) {
    ConfigBuilder b;
    b.add("a");
    b.add("b");
    b.add("svc", {"a"});
    Harness h(b.config);
    up(h);
    const Pid a = pid_of(h, "a"), bb = pid_of(h, "b"), svc = pid_of(h, "svc");
    ConfigBuilder next;
    next.add("a");
    next.add("b");
    next.add("svc", {"b"});  // now depends on b
    const Reloaded r = reload(h, next.config);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.summary.changed, (std::vector<std::string>{"svc"}));
    EXPECT_EQ(h.sys.signals_to(svc), (std::vector<int>{SIGTERM}));
    EXPECT_TRUE(h.sys.signals_to(a).empty());
    EXPECT_TRUE(h.sys.signals_to(bb).empty());
}

TEST(Reload, RemovedServicesStopInReverseOrder) {
    ConfigBuilder b;
    b.add("db");
    b.add("api", {"db"});
    b.add("keep");
    Harness h(b.config);
    up(h);
    const Pid db = pid_of(h, "db"), api = pid_of(h, "api");
    ConfigBuilder next;
    next.add("keep");
    const Reloaded r = reload(h, next.config);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(h.sys.signals_to(api), (std::vector<int>{SIGTERM}));
    EXPECT_TRUE(h.sys.signals_to(db).empty());  // after its dependent
    h.sys.alive_groups.erase(api);
    h.sup.on_child_exit(api, ExitStatus::killed(SIGTERM));
    EXPECT_EQ(h.sys.signals_to(db), (std::vector<int>{SIGTERM}));
    h.sys.alive_groups.erase(db);
    h.sup.on_child_exit(db, ExitStatus::killed(SIGTERM));
    EXPECT_EQ(h.sup.services().size(), 1u);
    EXPECT_FALSE(h.sup.shutting_down());  // removing critical services ends nothing
}

TEST(Reload, AChangedStoppedServiceStartsWithItsNewDefinition) {
    ConfigBuilder b;
    b.add("api");
    b.add("keep");
    Harness h(b.config);
    up(h);
    std::vector<std::size_t> ids;
    std::string error;
    ASSERT_TRUE(h.sup.find_services({"api"}, ids, error));
    ASSERT_TRUE(h.sup.request_stop(ids, error));
    h.killed("api", SIGTERM);
    ASSERT_EQ(state_of(h, "api"), ServiceState::Stopped);
    ConfigBuilder next;
    next.add("api").stop_grace = 1s;
    next.add("keep");
    ASSERT_TRUE(reload(h, next.config).ok);
    EXPECT_EQ(state_of(h, "api"), ServiceState::Starting);
    // Unchanged and stopped: it stays stopped.
    ConfigBuilder again;
    again.add("api").stop_grace = 1s;
    again.add("keep");
    ASSERT_TRUE(h.sup.request_stop(ids, error));
    h.sup.on_exec_result(pid_of(h, "api"), ExecResult::ok());
    h.sys.alive_groups.erase(pid_of(h, "api"));
    h.sup.on_child_exit(pid_of(h, "api"), ExitStatus::killed(SIGTERM));
    ASSERT_EQ(state_of(h, "api"), ServiceState::Stopped);
    ASSERT_TRUE(reload(h, again.config).ok);
    EXPECT_EQ(state_of(h, "api"), ServiceState::Stopped);
}

TEST(Reload, RefusedDuringShutdown) {
    ConfigBuilder b;
    b.add("api");
    Harness h(b.config);
    up(h);
    h.sup.on_signal(SIGTERM);
    const Reloaded r = reload(h, b.config);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "cannot reload: the supervisor is shutting down");
}

TEST(Reload, NewServicesGetNewIdsAndOldIdsAreNeverReused) {
    ConfigBuilder b;
    b.add("a");
    Harness h(b.config);
    up(h);
    ConfigBuilder next;
    next.add("b");
    ASSERT_TRUE(reload(h, next.config).ok);
    EXPECT_EQ(h.sup.find_name("b")->id(), 1u);
    EXPECT_EQ(h.sup.find_name("a")->id(), 0u);  // still stopping
}
