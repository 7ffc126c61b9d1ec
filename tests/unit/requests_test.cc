// Requests against every state (supervisor_requests.cc): start, stop,
// restart and signal, replayed event by event against FakeSys. A stopped
// service stays down: no restart policy, no critical shutdown, no /readyz
// failure.
#include <gtest/gtest.h>

#include <csignal>

#include "fake_sys.h"

using namespace sv;
using namespace sv::test;
using namespace std::chrono_literals;

namespace {

Config chain3() {
    ConfigBuilder b;  // web -> api -> db
    b.add("db");
    b.add("api", {"db"});
    b.add("web", {"api"});
    return b.config;
}

std::vector<std::size_t> ids(Harness& h, std::vector<std::string> names) {
    std::vector<std::size_t> out;
    std::string error;
    EXPECT_TRUE(h.sup.find_services(names, out, error)) << error;
    return out;
}

void all_up(Harness& h) {
    h.sup.start();
    for (const auto& s : h.config.services) h.exec_ok(s.name);
}

}  // namespace

TEST(Requests, UnknownNamesSuggestTheNearest) {
    Harness h(chain3());
    std::vector<std::size_t> out;
    std::string error;
    EXPECT_FALSE(h.sup.find_services({"db", "apii"}, out, error));
    EXPECT_EQ(error, "unknown service 'apii' (did you mean 'api'?)");
    EXPECT_FALSE(h.sup.find_services({"zzzzzz"}, out, error));
    EXPECT_EQ(error, "unknown service 'zzzzzz'");
}

TEST(Requests, StopTakesRunningDependentsDownFirstAndTheyStayDown) {
    Harness h(chain3());
    all_up(h);
    std::string error;
    ASSERT_TRUE(h.sup.request_stop(ids(h, {"db"}), error)) << error;
    // web first, then api, then db: each only once its dependents are down.
    EXPECT_EQ(h.sys.signals_to(h.pid("web")), (std::vector<int>{SIGTERM}));
    EXPECT_TRUE(h.sys.signals_to(h.pid("api")).empty());
    h.killed("web", SIGTERM);
    EXPECT_EQ(h.state("web"), ServiceState::Stopped);
    EXPECT_EQ(h.sys.signals_to(h.pid("api")), (std::vector<int>{SIGTERM}));
    EXPECT_TRUE(h.sys.signals_to(h.pid("db")).empty());
    h.killed("api", SIGTERM);
    h.killed("db", SIGTERM);
    for (const char* n : {"db", "api", "web"}) EXPECT_EQ(h.state(n), ServiceState::Stopped) << n;
    // Stopped by request: no critical shutdown, nothing restarts, /readyz is fine.
    EXPECT_FALSE(h.sup.shutting_down());
    EXPECT_FALSE(h.sup.next_deadline().has_value());
    EXPECT_TRUE(h.sup.all_ready());
    EXPECT_EQ(h.sys.spawned.size(), 3u);
    EXPECT_TRUE(h.logged("db: stopped by request"));
}

TEST(Requests, StoppedServiceIsListedAsStoppedByRequest) {
    Harness h(chain3());
    all_up(h);
    std::string error;
    ASSERT_TRUE(h.sup.request_stop(ids(h, {"web"}), error));
    h.killed("web", SIGTERM);
    const Snapshot snap = h.sup.snapshot(h.sys.now());
    EXPECT_EQ(snap.services[2].state, "stopped");
    EXPECT_FALSE(snap.services[2].ready);
    EXPECT_TRUE(snap.services[2].passes_readyz);
    EXPECT_TRUE(snap.all_ready());
}

TEST(Requests, StopIgnoresTheRestartPolicy) {
    ConfigBuilder b;
    b.add("worker").restart = RestartPolicy::Always;
    Harness h(b.config);
    all_up(h);
    std::string error;
    ASSERT_TRUE(h.sup.request_stop(ids(h, {"worker"}), error));
    h.killed("worker", SIGTERM);
    EXPECT_EQ(h.state("worker"), ServiceState::Stopped);
    EXPECT_FALSE(h.sup.next_deadline().has_value());  // no back-off
}

TEST(Requests, StopDuringStartingStopsAtOnce) {
    ConfigBuilder b;
    b.add_tcp_ready("db");
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    ASSERT_EQ(h.state("db"), ServiceState::Starting);
    std::string error;
    ASSERT_TRUE(h.sup.request_stop(ids(h, {"db"}), error));
    EXPECT_EQ(h.sys.signals_to(h.pid("db")), (std::vector<int>{SIGTERM}));
    EXPECT_FALSE(h.sys.probes_running.count({0, ProbeRole::Ready}));
    h.killed("db", SIGTERM);
    EXPECT_EQ(h.state("db"), ServiceState::Stopped);
}

TEST(Requests, StopDuringStartingAlsoStopsTheDependentsWaitingForIt) {
    // api waits (pending) for db, which is still starting: stopping db
    // leaves api nothing to wait for. It is stopped too, not left pending
    // for good with /readyz failing on it.
    ConfigBuilder b;
    b.add_tcp_ready("db");
    b.add("api", {"db"});
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    ASSERT_EQ(h.state("db"), ServiceState::Starting);
    ASSERT_EQ(h.state("api"), ServiceState::Pending);
    std::string error;
    ASSERT_TRUE(h.sup.request_stop(ids(h, {"db"}), error)) << error;
    EXPECT_EQ(h.state("api"), ServiceState::Stopped);
    h.killed("db", SIGTERM);
    EXPECT_EQ(h.state("db"), ServiceState::Stopped);
    EXPECT_TRUE(h.sup.all_ready());
    EXPECT_EQ(h.sys.spawned.size(), 1u);  // api never started
    // And a start of api brings both up again, db first.
    ASSERT_TRUE(h.sup.request_start(ids(h, {"api"}), error)) << error;
    EXPECT_EQ(h.sys.spawned.size(), 2u);
}

TEST(Requests, StopOfAStoppingServiceKeepsItsGraceAndEndsStopped) {
    ConfigBuilder b;
    auto& w = b.add("worker");
    w.stop_grace = 5s;
    w.health.kind = ProbeKind::Tcp;
    w.health.failures = 1;
    Harness h(b.config);
    all_up(h);
    h.sup.on_probe_result(0, ProbeRole::Health, false, "refused");  // -> Unhealthy, stopping
    ASSERT_EQ(h.state("worker"), ServiceState::Unhealthy);
    std::string error;
    ASSERT_TRUE(h.sup.request_stop(ids(h, {"worker"}), error));
    h.advance(5s);
    EXPECT_EQ(h.sys.signals_to(h.pid("worker")), (std::vector<int>{SIGTERM, SIGKILL}));
    h.killed("worker", SIGKILL);
    EXPECT_EQ(h.state("worker"), ServiceState::Stopped);
}

TEST(Requests, StartBringsUpWhatItNeedsFirstInOrder) {
    Harness h(chain3());
    all_up(h);
    std::string error;
    ASSERT_TRUE(h.sup.request_stop(ids(h, {"db"}), error));
    h.killed("web", SIGTERM);
    h.killed("api", SIGTERM);
    h.killed("db", SIGTERM);
    h.sys.spawned.clear();
    ASSERT_TRUE(h.sup.request_start(ids(h, {"api"}), error)) << error;
    EXPECT_EQ(h.sys.spawned, (std::vector<std::size_t>{0}));  // db first
    h.exec_ok("db");
    EXPECT_EQ(h.sys.spawned, (std::vector<std::size_t>{0, 1}));
    h.exec_ok("api");
    EXPECT_EQ(h.state("api"), ServiceState::Ready);
    EXPECT_EQ(h.state("web"), ServiceState::Stopped);  // not asked for: stays stopped
}

TEST(Requests, StartOfABackoffServiceIsImmediateWithItsCounterReset) {
    ConfigBuilder b;
    auto& w = b.add("worker");
    w.restart = RestartPolicy::Always;
    w.restart_delay = 10s;
    Harness h(b.config);
    all_up(h);
    h.exit("worker", 1);
    h.fire_next_deadline();
    h.exec_ok("worker");
    h.exit("worker", 1);
    ASSERT_EQ(h.state("worker"), ServiceState::Backoff);
    ASSERT_EQ(h.svc("worker").restarts(), 2u);
    std::string error;
    ASSERT_TRUE(h.sup.request_start(ids(h, {"worker"}), error));
    EXPECT_EQ(h.state("worker"), ServiceState::Starting);  // at once, not in 20 s
    EXPECT_EQ(h.svc("worker").restarts(), 0u);
}

TEST(Requests, StartOfAFailedOrExitedService) {
    ConfigBuilder b;
    b.add("failed").critical = false;
    b.add("exited").critical = false;
    b.add("keep");
    Harness h(b.config);
    h.sup.start();
    h.sup.on_exec_result(h.pid("failed"), ExecResult::failed(ENOENT, "cannot execute x",
                                                             "No such file or directory"));
    h.exit("failed", 127);
    h.exec_ok("exited");
    h.exit("exited", 0);
    h.exec_ok("keep");
    ASSERT_EQ(h.state("failed"), ServiceState::Failed);
    ASSERT_EQ(h.state("exited"), ServiceState::Exited);
    std::string error;
    ASSERT_TRUE(h.sup.request_start(ids(h, {"failed", "exited"}), error));
    EXPECT_EQ(h.state("failed"), ServiceState::Starting);
    EXPECT_EQ(h.state("exited"), ServiceState::Starting);
    EXPECT_EQ(h.svc("failed").fail_reason(), FailReason::None);
}

TEST(Requests, StartOfACompletedOneshotRunsItAgainButANeededOneIsLeftAlone) {
    ConfigBuilder b;
    b.add("migrate").type = ServiceType::Oneshot;
    b.add("api", {"migrate"});
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("migrate");
    h.exit("migrate", 0);
    h.exec_ok("api");
    std::string error;
    ASSERT_TRUE(h.sup.request_stop(ids(h, {"api"}), error));
    h.killed("api", SIGTERM);
    h.sys.spawned.clear();
    ASSERT_TRUE(h.sup.request_start(ids(h, {"api"}), error));
    EXPECT_EQ(h.sys.spawned, (std::vector<std::size_t>{1}));  // migrate stays completed
    ASSERT_TRUE(h.sup.request_start(ids(h, {"migrate"}), error));
    EXPECT_EQ(h.state("migrate"), ServiceState::Starting);
}

TEST(Requests, StartWhileItIsStoppingStartsItOnceDown) {
    ConfigBuilder b;
    b.add("api");
    Harness h(b.config);
    all_up(h);
    std::string error;
    ASSERT_TRUE(h.sup.request_stop(ids(h, {"api"}), error));
    ASSERT_TRUE(h.sup.request_start(ids(h, {"api"}), error));
    EXPECT_EQ(h.sys.spawned.size(), 1u);  // not beside the old process
    h.killed("api", SIGTERM);
    EXPECT_EQ(h.state("api"), ServiceState::Starting);
    EXPECT_EQ(h.sys.spawned.size(), 2u);
}

TEST(Requests, RestartBringsBackTheDependentsThatWereRunning) {
    ConfigBuilder b;  // web -> api -> db, and tool -> db (not running)
    b.add("db");
    b.add("api", {"db"});
    b.add("web", {"api"});
    b.add("tool", {"db"}).critical = false;
    Harness h(b.config);
    all_up(h);
    h.exit("tool", 0);  // ended: not running
    std::string error;
    ASSERT_TRUE(h.sup.request_restart(ids(h, {"db"}), error));
    const Pid old_db = h.pid("db");
    // Down in reverse order...
    EXPECT_EQ(h.sys.signals_to(h.pid("web")), (std::vector<int>{SIGTERM}));
    h.killed("web", SIGTERM);
    h.killed("api", SIGTERM);
    EXPECT_EQ(h.sys.signals_to(old_db), (std::vector<int>{SIGTERM}));
    EXPECT_EQ(h.sys.spawned.size(), 4u);  // nothing started before all are down
    h.killed("db", SIGTERM);
    // ... and up again in order.
    EXPECT_NE(h.pid("db"), old_db);
    EXPECT_EQ(h.state("db"), ServiceState::Starting);
    EXPECT_EQ(h.state("api"), ServiceState::Pending);
    h.exec_ok("db");
    h.exec_ok("api");
    h.exec_ok("web");
    EXPECT_EQ(h.state("web"), ServiceState::Ready);
    EXPECT_EQ(h.state("tool"), ServiceState::Exited);  // was not running: not brought back
}

TEST(Requests, RestartOfAFailedServiceStartsIt) {
    ConfigBuilder b;
    b.add("api").critical = false;
    b.add("keep");
    Harness h(b.config);
    all_up(h);
    h.exit("api", 3);
    ASSERT_EQ(h.state("api"), ServiceState::Exited);
    std::string error;
    ASSERT_TRUE(h.sup.request_restart(ids(h, {"api"}), error));
    EXPECT_EQ(h.state("api"), ServiceState::Starting);
}

TEST(Requests, SignalReachesTheGroupAndSaysWhatIsNotRunning) {
    Harness h(chain3());
    all_up(h);
    std::string error;
    ASSERT_TRUE(h.sup.request_signal(ids(h, {"api"}), SIGHUP, error));
    EXPECT_EQ(h.sys.signals_to(h.pid("api")), (std::vector<int>{SIGHUP}));
    ASSERT_TRUE(h.sup.request_stop(ids(h, {"web"}), error));
    h.killed("web", SIGTERM);
    EXPECT_FALSE(h.sup.request_signal(ids(h, {"web"}), SIGHUP, error));
    EXPECT_EQ(error, "web is not running");
}

TEST(Requests, RefusedDuringShutdown) {
    Harness h(chain3());
    all_up(h);
    h.sup.on_signal(SIGTERM);
    std::string error;
    EXPECT_FALSE(h.sup.request_start(ids(h, {"db"}), error));
    EXPECT_EQ(error, "the supervisor is shutting down");
    EXPECT_FALSE(h.sup.request_restart(ids(h, {"db"}), error));
}

TEST(Requests, ACriticalServiceStoppedByRequestDoesNotEndTheRun) {
    ConfigBuilder b;
    b.add("app");  // critical by default
    Harness h(b.config);
    all_up(h);
    std::string error;
    ASSERT_TRUE(h.sup.request_stop(ids(h, {"app"}), error));
    h.killed("app", SIGTERM);
    EXPECT_FALSE(h.sup.shutting_down());
    // All services stopped: the supervisor waits for a start, it does not end.
    EXPECT_FALSE(h.sup.finished());
    // A later SIGTERM exits 0, though the stop needed no SIGKILL anyway.
    h.sup.on_signal(SIGTERM);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 0);
}

TEST(Requests, ShutdownRequestIsLikeSigterm) {
    Harness h(chain3());
    all_up(h);
    h.sup.request_shutdown("the control socket");
    EXPECT_TRUE(h.sup.shutting_down());
    EXPECT_TRUE(h.logged("shutdown requested by the control socket"));
    EXPECT_EQ(h.sys.signals_to(h.pid("web")), (std::vector<int>{SIGTERM}));
}
