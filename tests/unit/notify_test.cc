// Readiness by notify (ready.kind = notify): READY=1 and STATUS= arrive as
// Supervisor::on_notify, replayed here against FakeSys. No probe polls; the
// exec result and READY=1 may come in either order; a READY=1 counts only
// for the run it was sent in.
#include <gtest/gtest.h>

#include "fake_sys.h"

using namespace sv;
using namespace sv::test;
using namespace std::chrono_literals;

namespace {

// One service "db" that reports readiness with sd_notify.
Config notify_db() {
    ConfigBuilder b;
    b.add("db").ready.kind = ProbeKind::Notify;
    return b.config;
}

void ready_notify(Harness& h, const std::string& name) {
    h.sup.on_notify(h.index(name), true, std::nullopt);
}

}  // namespace

TEST(Notify, ReadyAfterTheExecResult) {
    Harness h(notify_db());
    h.sup.start();
    h.exec_ok("db");
    // exec success alone is not readiness for a notify service.
    EXPECT_EQ(h.state("db"), ServiceState::Starting);
    EXPECT_FALSE(h.sup.all_ready());
    ready_notify(h, "db");
    EXPECT_EQ(h.state("db"), ServiceState::Ready);
    EXPECT_TRUE(h.sup.all_ready());
    EXPECT_EQ(h.sup.phase(), Phase::Running);
}

TEST(Notify, ReadyBeforeTheExecResultIsRemembered) {
    // A fast service can send READY=1 before the status pipe reports; it
    // becomes ready as soon as the exec is known to have succeeded.
    Harness h(notify_db());
    h.sup.start();
    ready_notify(h, "db");
    EXPECT_EQ(h.state("db"), ServiceState::Starting);
    h.exec_ok("db");
    EXPECT_EQ(h.state("db"), ServiceState::Ready);
}

TEST(Notify, ReadyBeforeAFailedExecDoesNotMakeItReady) {
    // Whoever sent READY=1, the program itself never ran.
    Harness h(notify_db());
    h.sup.start();
    ready_notify(h, "db");
    h.sup.on_exec_result(h.pid("db"),
                         ExecResult::failed(ENOENT, "cannot execute /bin/db", "No such file"));
    EXPECT_EQ(h.state("db"), ServiceState::Failed);
    EXPECT_EQ(h.svc("db").fail_reason(), FailReason::ExecFailed);
}

TEST(Notify, NoProbeIsStarted) {
    // Readiness by notify is no probe: nothing polls.
    Harness h(notify_db());
    h.sup.start();
    h.exec_ok("db");
    EXPECT_TRUE(h.sys.probe_starts.empty());
    ready_notify(h, "db");
    EXPECT_TRUE(h.sys.probe_starts.empty());
    EXPECT_TRUE(h.sys.probes_running.empty());
}

TEST(Notify, HealthProbeStartsOnceReady) {
    ConfigBuilder b;
    auto& db = b.add("db");
    db.ready.kind = ProbeKind::Notify;
    db.health.kind = ProbeKind::Tcp;
    db.health.address = "127.0.0.1:5432";
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    EXPECT_TRUE(h.sys.probe_starts.empty());
    ready_notify(h, "db");
    using Start = std::pair<std::size_t, ProbeRole>;
    EXPECT_EQ(h.sys.probe_starts, (std::vector<Start>{{0, ProbeRole::Health}}));
}

TEST(Notify, ReadyFromAPreviousRunDoesNotCountAfterARestart) {
    ConfigBuilder b;
    auto& db = b.add("db");
    db.ready.kind = ProbeKind::Notify;
    db.restart = RestartPolicy::Always;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    ready_notify(h, "db");
    ASSERT_EQ(h.state("db"), ServiceState::Ready);
    h.exit("db", 1);
    ASSERT_EQ(h.state("db"), ServiceState::Backoff);
    h.fire_next_deadline();
    ASSERT_EQ(h.state("db"), ServiceState::Starting);
    ASSERT_EQ(h.sys.spawned.size(), 2u);
    h.exec_ok("db");
    // The new process has not said it is ready yet.
    EXPECT_EQ(h.state("db"), ServiceState::Starting);
    ready_notify(h, "db");
    EXPECT_EQ(h.state("db"), ServiceState::Ready);
}

TEST(Notify, LateReadyDuringBackoffDoesNotCountForTheNextRun) {
    // A datagram from the old process's leftovers, read after it exited.
    ConfigBuilder b;
    auto& db = b.add("db");
    db.ready.kind = ProbeKind::Notify;
    db.restart = RestartPolicy::Always;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    h.exit("db", 1);
    ASSERT_EQ(h.state("db"), ServiceState::Backoff);
    ready_notify(h, "db");
    EXPECT_EQ(h.state("db"), ServiceState::Backoff);
    h.fire_next_deadline();
    h.exec_ok("db");
    EXPECT_EQ(h.state("db"), ServiceState::Starting);
}

TEST(Notify, StatusTextShowsInTheSnapshot) {
    Harness h(notify_db());
    h.sup.start();
    h.exec_ok("db");
    h.sup.on_notify(h.index("db"), false, std::string("loading 40%"));
    // STATUS= alone is no readiness.
    EXPECT_EQ(h.state("db"), ServiceState::Starting);
    EXPECT_EQ(h.sup.snapshot(h.sys.now()).services.at(0).status_text, "loading 40%");
    h.sup.on_notify(h.index("db"), true, std::string("accepting connections"));
    EXPECT_EQ(h.state("db"), ServiceState::Ready);
    EXPECT_EQ(h.sup.snapshot(h.sys.now()).services.at(0).status_text, "accepting connections");
    // A datagram without STATUS= leaves the text as it was.
    ready_notify(h, "db");
    EXPECT_EQ(h.sup.snapshot(h.sys.now()).services.at(0).status_text, "accepting connections");
}

TEST(Notify, StatusTextBelongsToTheRunThatSaidIt) {
    ConfigBuilder b;
    auto& db = b.add("db");
    db.ready.kind = ProbeKind::Notify;
    db.restart = RestartPolicy::Always;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    h.sup.on_notify(h.index("db"), true, std::string("accepting connections"));
    h.exit("db", 1);
    h.fire_next_deadline();  // the back-off ends: a new run
    EXPECT_EQ(h.state("db"), ServiceState::Starting);
    EXPECT_EQ(h.sup.snapshot(h.sys.now()).services.at(0).status_text, "");
}

TEST(Notify, DependentStartsOnlyAfterReady) {
    ConfigBuilder b;
    b.add("db").ready.kind = ProbeKind::Notify;
    b.add("api", {"db"});
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    EXPECT_EQ(h.sys.spawned, (std::vector<std::size_t>{0}));
    EXPECT_EQ(h.state("api"), ServiceState::Pending);
    ready_notify(h, "db");
    EXPECT_EQ(h.sys.spawned, (std::vector<std::size_t>{0, 1}));
    EXPECT_EQ(h.state("api"), ServiceState::Starting);
}

TEST(Notify, NoReadyWithinStartTimeoutFails) {
    ConfigBuilder b;
    auto& db = b.add("db");
    db.ready.kind = ProbeKind::Notify;
    db.ready.start_timeout = 5s;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    h.advance(4999ms);
    EXPECT_EQ(h.state("db"), ServiceState::Starting);
    h.advance(1ms);
    EXPECT_EQ(h.sys.signals_to(h.pid("db")), (std::vector<int>{SIGTERM}));
    h.killed("db", SIGTERM);
    EXPECT_EQ(h.state("db"), ServiceState::Failed);
    EXPECT_EQ(h.svc("db").fail_reason(), FailReason::ReadyTimeout);
}

TEST(Notify, ReadyIsIgnoredForOtherReadinessKinds) {
    // A service with a tcp probe cannot short-cut it with READY=1.
    ConfigBuilder b;
    b.add_tcp_ready("db");
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    ready_notify(h, "db");
    EXPECT_EQ(h.state("db"), ServiceState::Starting);
    h.sup.on_probe_result(0, ProbeRole::Ready, true, "");
    EXPECT_EQ(h.state("db"), ServiceState::Ready);
}

TEST(Notify, UnknownIndexIsIgnored) {
    Harness h(notify_db());
    h.sup.start();
    h.sup.on_notify(7, true, std::string("x"));
    EXPECT_EQ(h.state("db"), ServiceState::Starting);
}
