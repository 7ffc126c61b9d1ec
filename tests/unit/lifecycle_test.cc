// The lifecycle core replayed event by event against FakeSys: the state of
// every service is asserted after each step (dinit's test_proc_* style).
#include <gtest/gtest.h>

#include "fake_sys.h"

using namespace sv;
using namespace sv::test;
using namespace std::chrono_literals;

namespace {

Config chain3() {
    // web -> api -> db
    ConfigBuilder b;
    b.add("db");
    b.add("api", {"db"});
    b.add("web", {"api"});
    return b.config;
}

}  // namespace

TEST(Start, DependencyOrder) {
    Harness h(chain3());
    h.sup.start();
    EXPECT_EQ(h.sys.spawned, (std::vector<std::size_t>{0}));
    EXPECT_EQ(h.state("db"), ServiceState::Starting);
    EXPECT_EQ(h.state("api"), ServiceState::Pending);
    h.exec_ok("db");
    EXPECT_EQ(h.state("db"), ServiceState::Ready);
    EXPECT_EQ(h.sys.spawned, (std::vector<std::size_t>{0, 1}));
    EXPECT_EQ(h.state("web"), ServiceState::Pending);
    h.exec_ok("api");
    h.exec_ok("web");
    EXPECT_EQ(h.state("web"), ServiceState::Ready);
    EXPECT_EQ(h.sup.phase(), Phase::Running);
    EXPECT_TRUE(h.sup.snapshot(h.sys.now()).all_ready());
    EXPECT_TRUE(h.sup.all_ready());
}

TEST(Start, IndependentServicesStartTogether) {
    ConfigBuilder b;
    b.add("a");
    b.add("b");
    b.add("c", {"a", "b"});
    Harness h(b.config);
    h.sup.start();
    EXPECT_EQ(h.sys.spawned, (std::vector<std::size_t>{0, 1}));
    h.exec_ok("a");
    EXPECT_EQ(h.sys.spawned.size(), 2u);  // c still waits for b
    h.exec_ok("b");
    EXPECT_EQ(h.sys.spawned, (std::vector<std::size_t>{0, 1, 2}));
}

TEST(Start, WaitsForReadinessProbe) {
    ConfigBuilder b;
    b.add_tcp_ready("db");
    b.add("api", {"db"});
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    EXPECT_EQ(h.state("db"), ServiceState::Starting);
    EXPECT_TRUE(h.sys.probes_running.count({0, ProbeRole::Ready}));
    EXPECT_EQ(h.sys.spawned.size(), 1u);
    h.sup.on_probe_result(0, ProbeRole::Ready, false, "connection refused");
    EXPECT_EQ(h.state("db"), ServiceState::Starting);
    h.sup.on_probe_result(0, ProbeRole::Ready, true, "");
    EXPECT_EQ(h.state("db"), ServiceState::Ready);
    EXPECT_FALSE(h.sys.probes_running.count({0, ProbeRole::Ready}));
    EXPECT_EQ(h.sys.spawned.size(), 2u);
}

TEST(Start, ReadyTimeoutFailsTheStartAndStopsTheProcess) {
    ConfigBuilder b;
    auto& db = b.add("db");
    db.ready.kind = ProbeKind::Tcp;
    db.ready.start_timeout = 5s;
    db.stop_grace = 2s;
    b.add("api", {"db"});
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
    EXPECT_EQ(h.state("api"), ServiceState::Failed);  // dependency failed
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 1);
}

TEST(Start, ExecFailureIsReportedAtOnce) {
    ConfigBuilder b;
    b.add("api");
    Harness h(b.config);
    h.sup.start();
    h.sup.on_exec_result(h.pid("api"), ExecResult::failed(ENOENT, "cannot execute /usr/bin/apii",
                                                          "No such file or directory"));
    EXPECT_EQ(h.state("api"), ServiceState::Failed);
    EXPECT_TRUE(h.logged("api: cannot execute /usr/bin/apii: No such file or directory"));
    h.exit("api", 127);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 1);
}

TEST(Oneshot, CompletionLetsDependentsStart) {
    ConfigBuilder b;
    b.add("db");
    b.add("migrate", {"db"}).type = ServiceType::Oneshot;
    b.add("api", {"migrate"});
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    h.exec_ok("migrate");
    EXPECT_EQ(h.state("migrate"), ServiceState::Starting);
    EXPECT_EQ(h.state("api"), ServiceState::Pending);
    h.exit("migrate", 0);
    EXPECT_EQ(h.state("migrate"), ServiceState::Completed);
    EXPECT_EQ(h.state("api"), ServiceState::Starting);
    EXPECT_FALSE(h.sup.shutting_down());  // a completed critical oneshot ends nothing
}

TEST(Oneshot, FailureBlocksDependentsAndEndsTheRun) {
    ConfigBuilder b;
    b.add("db");
    b.add("migrate", {"db"}).type = ServiceType::Oneshot;
    b.add("api", {"migrate"});
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    h.exec_ok("migrate");
    h.exit("migrate", 3);
    EXPECT_EQ(h.state("migrate"), ServiceState::Failed);
    EXPECT_EQ(h.state("api"), ServiceState::Failed);
    EXPECT_EQ(h.svc("api").fail_reason(), FailReason::DependencyFailed);
    EXPECT_TRUE(h.sup.shutting_down());
    EXPECT_EQ(h.sys.signals_to(h.pid("db")), (std::vector<int>{SIGTERM}));
    h.exit("db", 0);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 3);
}

TEST(Restart, BackoffDoublesUpToTheMaximum) {
    ConfigBuilder b;
    auto& w = b.add("worker");
    w.restart = RestartPolicy::Always;
    w.restart_delay = 100ms;
    w.restart_delay_max = 350ms;
    Harness h(b.config);
    h.sup.start();
    std::vector<Duration> delays;
    for (int run = 0; run < 5; ++run) {
        h.exec_ok("worker");
        h.exit("worker", 1);
        ASSERT_EQ(h.state("worker"), ServiceState::Backoff);
        const TimePoint before = h.sys.now();
        h.fire_next_deadline();
        delays.push_back(std::chrono::duration_cast<Duration>(h.sys.now() - before));
        ASSERT_EQ(h.state("worker"), ServiceState::Starting);
    }
    EXPECT_EQ(delays, (std::vector<Duration>{100ms, 200ms, 350ms, 350ms, 350ms}));
    EXPECT_EQ(h.svc("worker").restarts(), 5);
    EXPECT_TRUE(h.logged("worker: restarting in 100ms"));
}

TEST(Restart, BackoffResetsAfterAMinuteUp) {
    ConfigBuilder b;
    auto& w = b.add("worker");
    w.restart = RestartPolicy::Always;
    w.restart_delay = 1s;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("worker");
    h.exit("worker", 1);
    h.fire_next_deadline();  // 1s
    h.exec_ok("worker");
    h.exit("worker", 1);
    h.fire_next_deadline();  // 2s
    h.exec_ok("worker");
    h.advance(61s);
    h.exit("worker", 1);
    const TimePoint before = h.sys.now();
    h.fire_next_deadline();
    EXPECT_EQ(h.sys.now() - before, 1s);
}

TEST(Restart, OnFailureHonoursSuccessCodes) {
    ConfigBuilder b;
    auto& w = b.add("worker");
    w.restart = RestartPolicy::OnFailure;
    w.success_codes = {0, 143};
    w.critical = false;
    b.add("other");
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("worker");
    h.exec_ok("other");
    h.exit("worker", 143);
    EXPECT_EQ(h.state("worker"), ServiceState::Exited);
    EXPECT_FALSE(h.sup.shutting_down());  // not critical
}

TEST(Restart, MaxRestartsThenFailedWithLastStatus) {
    ConfigBuilder b;
    auto& w = b.add("worker");
    w.restart = RestartPolicy::OnFailure;
    w.max_restarts = 2;
    Harness h(b.config);
    h.sup.start();
    int runs = 0;
    while (h.state("worker") != ServiceState::Failed && runs < 10) {
        ++runs;
        h.exec_ok("worker");
        h.exit("worker", 7);
        if (h.state("worker") == ServiceState::Backoff) h.fire_next_deadline();
    }
    EXPECT_EQ(runs, 3);  // max_restarts = 2: three runs in all
    EXPECT_EQ(h.svc("worker").fail_reason(), FailReason::TooManyRestarts);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 7);
}

TEST(Critical, LongrunExitEndsTheRunWithItsStatus) {
    ConfigBuilder b;
    b.add("db");
    b.add("api", {"db"});
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    h.exec_ok("api");
    h.exit("db", 42);
    EXPECT_TRUE(h.sup.shutting_down());
    EXPECT_EQ(h.sys.signals_to(h.pid("api")), (std::vector<int>{SIGTERM}));
    h.killed("api", SIGTERM);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 42);
}

TEST(Critical, KilledBySignalIs128PlusSignal) {
    ConfigBuilder b;
    b.add("db");
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    h.killed("db", SIGSEGV);
    EXPECT_EQ(h.sup.exit_code(), 128 + SIGSEGV);
}

TEST(Critical, NonCriticalEndDoesNotStopTheRun) {
    ConfigBuilder b;
    b.add("db");
    b.add("cron").critical = false;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");
    h.exec_ok("cron");
    h.exit("cron", 1);
    EXPECT_EQ(h.state("cron"), ServiceState::Exited);
    EXPECT_FALSE(h.sup.shutting_down());
}

TEST(Shutdown, ReverseDependencyOrder) {
    Harness h(chain3());
    h.sup.start();
    h.exec_ok("db");
    h.exec_ok("api");
    h.exec_ok("web");
    h.sup.on_signal(SIGTERM);
    EXPECT_EQ(h.sys.kills, (std::vector<KillCall>{{h.pid("web"), SIGTERM}}));
    h.killed("web", SIGTERM);
    EXPECT_EQ(h.sys.kills.back(), (KillCall{h.pid("api"), SIGTERM}));
    EXPECT_EQ(h.state("db"), ServiceState::Ready);
    h.exit("api", 0);
    EXPECT_EQ(h.sys.kills.back(), (KillCall{h.pid("db"), SIGTERM}));
    h.exit("db", 0);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 0);
}

TEST(Shutdown, GraceThenSigkillOfTheGroup) {
    ConfigBuilder b;
    auto& s = b.add("stubborn");
    s.stop_grace = 3s;
    s.stop_signal = SIGQUIT;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("stubborn");
    h.sup.on_signal(SIGTERM);
    EXPECT_EQ(h.sys.signals_to(h.pid("stubborn")), (std::vector<int>{SIGQUIT}));
    EXPECT_EQ(h.state("stubborn"), ServiceState::Stopping);
    h.advance(2999ms);
    EXPECT_EQ(h.sys.signals_to(h.pid("stubborn")).size(), 1u);
    h.advance(1ms);
    EXPECT_EQ(h.sys.signals_to(h.pid("stubborn")), (std::vector<int>{SIGQUIT, SIGKILL}));
    EXPECT_TRUE(h.logged("stubborn: killed after grace (3s)"));
    h.killed("stubborn", SIGKILL);
    EXPECT_EQ(h.state("stubborn"), ServiceState::Exited);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 1);  // a shutdown had to SIGKILL
}

TEST(Shutdown, GroupIsKilledEvenWhenTheLeaderIsGone) {
    ConfigBuilder b;
    b.add("forker").stop_grace = 2s;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("forker");
    const Pid pg = h.pid("forker");
    h.sup.on_signal(SIGTERM);
    // The leader exits but a grandchild in its group ignores SIGTERM.
    h.sup.on_child_exit(pg, ExitStatus::killed(SIGTERM));
    EXPECT_EQ(h.state("forker"), ServiceState::Stopping);
    EXPECT_FALSE(h.sup.finished());
    h.advance(2s);
    EXPECT_EQ(h.sys.signals_to(pg), (std::vector<int>{SIGTERM, SIGKILL}));
    EXPECT_EQ(h.state("forker"), ServiceState::Exited);
}

TEST(Shutdown, LeftoverGroupMemberExitingEndsTheStop) {
    ConfigBuilder b;
    b.add("forker").stop_grace = 10s;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("forker");
    const Pid pg = h.pid("forker");
    h.sup.on_signal(SIGTERM);
    h.sup.on_child_exit(pg, ExitStatus::killed(SIGTERM));
    EXPECT_EQ(h.state("forker"), ServiceState::Stopping);
    h.sys.alive_groups.erase(pg);
    h.sup.on_child_exit(pg + 50, ExitStatus::exited(0));  // the grandchild, as an orphan
    EXPECT_EQ(h.state("forker"), ServiceState::Exited);
    EXPECT_EQ(h.sup.orphans_reaped(), 1u);
    EXPECT_EQ(h.sup.exit_code(), 0);
}

TEST(Shutdown, DrainDelayKeepsServicesRunning) {
    ConfigBuilder b;
    b.add("api");
    b.config.supervisor.drain_delay = 5s;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("api");
    h.sup.on_signal(SIGTERM);
    EXPECT_TRUE(h.sup.snapshot(h.sys.now()).shutting_down);
    EXPECT_FALSE(h.sup.snapshot(h.sys.now()).all_ready());
    EXPECT_FALSE(h.sup.all_ready());
    EXPECT_EQ(h.state("api"), ServiceState::Ready);
    h.advance(4999ms);
    EXPECT_TRUE(h.sys.kills.empty());
    h.advance(1ms);
    EXPECT_EQ(h.sys.signals_to(h.pid("api")), (std::vector<int>{SIGTERM}));
}

TEST(Shutdown, DuringStartupPendingNeverStartAndStartingStopAtOnce) {
    ConfigBuilder b;
    auto& db = b.add("db");
    db.ready.kind = ProbeKind::Tcp;
    b.add("api", {"db"});
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("db");  // waiting for its probe
    h.sup.on_signal(SIGTERM);
    EXPECT_EQ(h.sys.signals_to(h.pid("db")), (std::vector<int>{SIGTERM}));
    EXPECT_FALSE(h.sys.probes_running.count({0, ProbeRole::Ready}));
    h.killed("db", SIGTERM);
    EXPECT_EQ(h.sys.spawned.size(), 1u);  // api never started
    EXPECT_EQ(h.state("api"), ServiceState::Pending);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 0);
}

TEST(Shutdown, SecondSigintKillsEverythingAtOnce) {
    Harness h(chain3());
    h.sup.start();
    h.exec_ok("db");
    h.exec_ok("api");
    h.exec_ok("web");
    h.sup.on_signal(SIGINT);
    EXPECT_EQ(h.sys.kills.size(), 1u);
    h.sup.on_signal(SIGINT);
    for (const char* n : {"db", "api", "web"})
        EXPECT_EQ(h.sys.signals_to(h.pid(n)).back(), SIGKILL) << n;
    h.killed("web", SIGKILL);
    h.killed("api", SIGKILL);
    h.killed("db", SIGKILL);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 1);
}

TEST(Shutdown, ShutdownTimeoutCapsEverything) {
    ConfigBuilder b;
    b.add("slow").stop_grace = 100s;
    b.config.supervisor.shutdown_timeout = 5s;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("slow");
    h.sup.on_signal(SIGTERM);
    h.advance(4999ms);
    EXPECT_EQ(h.sys.signals_to(h.pid("slow")).back(), SIGTERM);
    h.advance(1ms);
    EXPECT_EQ(h.sys.signals_to(h.pid("slow")).back(), SIGKILL);
}

TEST(Shutdown, FinalSweepTermThenKill) {
    ConfigBuilder b;
    b.add("a").stop_grace = 2s;
    b.add("b").stop_grace = 7s;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("a");
    h.exec_ok("b");
    h.sup.on_signal(SIGTERM);
    h.sys.children_left = true;  // an orphan is still around
    h.exit("a", 0);
    h.exit("b", 0);
    EXPECT_EQ(h.sup.phase(), Phase::Sweeping);
    EXPECT_EQ(h.sys.sweeps, (std::vector<int>{SIGTERM}));
    h.advance(6999ms);
    EXPECT_EQ(h.sys.sweeps.size(), 1u);
    h.advance(1ms);  // the largest stop_grace
    EXPECT_EQ(h.sys.sweeps, (std::vector<int>{SIGTERM, SIGKILL}));
    h.sys.children_left = false;
    h.sup.on_child_exit(999, ExitStatus::killed(SIGKILL));
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 0);
}

TEST(Signals, ForwardedToEveryRunningGroup) {
    ConfigBuilder b;
    b.add("a");
    b.add("b");
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("a");
    h.exec_ok("b");
    h.sup.on_signal(SIGHUP);
    EXPECT_EQ(h.sys.kills, (std::vector<KillCall>{{h.pid("a"), SIGHUP}, {h.pid("b"), SIGHUP}}));
    EXPECT_FALSE(h.sup.shutting_down());
}

TEST(Health, FailuresInARowRestartTheService) {
    ConfigBuilder b;
    auto& api = b.add("api");
    api.health.kind = ProbeKind::Http;
    api.health.failures = 2;
    api.restart = RestartPolicy::OnFailure;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("api");
    EXPECT_TRUE(h.sys.probes_running.count({0, ProbeRole::Health}));
    h.sup.on_probe_result(0, ProbeRole::Health, false, "HTTP 500");
    h.sup.on_probe_result(0, ProbeRole::Health, true, "");
    h.sup.on_probe_result(0, ProbeRole::Health, false, "HTTP 500");
    EXPECT_EQ(h.state("api"), ServiceState::Ready);  // not two in a row
    h.sup.on_probe_result(0, ProbeRole::Health, false, "HTTP 500");
    EXPECT_EQ(h.state("api"), ServiceState::Unhealthy);
    EXPECT_EQ(h.sys.signals_to(h.pid("api")), (std::vector<int>{SIGTERM}));
    h.killed("api", SIGTERM);
    EXPECT_EQ(h.state("api"), ServiceState::Backoff);
    h.fire_next_deadline();
    EXPECT_EQ(h.state("api"), ServiceState::Starting);
    EXPECT_EQ(h.svc("api").restarts(), 1);
}

TEST(SingleCommand, SignalIsPassedAsIsAndStatusPropagates) {
    ConfigBuilder b;
    b.add("cmd").log = LogMode::Inherit;
    Harness h(b.config, RunMode::SingleCommand);
    h.sup.start();
    EXPECT_TRUE(h.sys.spawned_foreground.at(0));
    h.exec_ok("cmd");
    h.sup.on_signal(SIGINT);
    EXPECT_EQ(h.sys.signals_to(h.pid("cmd")), (std::vector<int>{SIGINT}));
    h.killed("cmd", SIGINT);
    EXPECT_EQ(h.sup.exit_code(), 128 + SIGINT);
}

TEST(SingleCommand, ExecFailureGives127Or126) {
    for (auto [err, code] : {std::pair{ENOENT, 127}, std::pair{EACCES, 126}}) {
        ConfigBuilder b;
        b.add("cmd");
        Harness h(b.config, RunMode::SingleCommand);
        h.sup.start();
        h.sup.on_exec_result(h.pid("cmd"), ExecResult::failed(err, "cannot execute cmd", "?"));
        h.exit("cmd", 127);
        EXPECT_TRUE(h.sup.finished());
        EXPECT_EQ(h.sup.exit_code(), code);
    }
}

TEST(SingleCommand, StopSignalStandsInForEverySigtermNotOnlyTheFirst) {
    ConfigBuilder b;
    b.add("cmd").stop_signal = SIGUSR2;  // --stop-signal SIGUSR2
    Harness h(b.config, RunMode::SingleCommand);
    h.sup.start();
    h.exec_ok("cmd");
    h.sup.on_signal(SIGTERM);
    h.sup.on_signal(SIGTERM);
    h.sup.on_signal(SIGINT);
    EXPECT_EQ(h.sys.signals_to(h.pid("cmd")), (std::vector<int>{SIGUSR2, SIGUSR2, SIGINT}));
}

TEST(AllEnded, EveryServiceSucceededExitsZero) {
    ConfigBuilder b;
    b.add("job1").type = ServiceType::Oneshot;
    b.add("job2").type = ServiceType::Oneshot;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("job1");
    h.exec_ok("job2");
    h.exit("job1", 0);
    EXPECT_FALSE(h.sup.finished());
    h.exit("job2", 0);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 0);
}

TEST(Shutdown, SaysWhatItIsWaitingFor) {
    ConfigBuilder b;
    b.add("api").stop_grace = 10s;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("api");
    h.sup.on_signal(SIGINT);
    h.advance(1s);
    EXPECT_TRUE(h.logged("waiting for api (SIGTERM sent 1.0s ago, SIGKILL in 9.0s)"));
    h.killed("api", SIGTERM);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_FALSE(h.sup.next_deadline().has_value() && h.sup.phase() != Phase::Done);
}

TEST(Shutdown, ServicesStillStartingDoNotWaitForTheDrain) {
    ConfigBuilder b;
    b.add("api");
    auto& slow = b.add("slow");
    slow.ready.kind = ProbeKind::Tcp;
    b.config.supervisor.drain_delay = 5s;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("api");
    h.exec_ok("slow");  // waiting for its probe
    h.sup.on_signal(SIGTERM);
    EXPECT_EQ(h.sys.signals_to(h.pid("slow")), (std::vector<int>{SIGTERM}));
    EXPECT_TRUE(h.sys.signals_to(h.pid("api")).empty());  // ready: drains first
    h.killed("slow", SIGTERM);
    EXPECT_EQ(h.sup.phase(), Phase::Draining);
    h.advance(5s);
    EXPECT_EQ(h.sys.signals_to(h.pid("api")), (std::vector<int>{SIGTERM}));
}

TEST(Batch, WhatFollowsFromABatchIsWorkedOutAtItsEnd) {
    ConfigBuilder b;
    b.add("db");
    b.add("cache");
    b.add("api", {"db", "cache"});
    Harness h(b.config);
    h.sup.start();
    h.sup.begin_batch();
    h.exec_ok("db");
    h.exec_ok("cache");
    EXPECT_EQ(h.state("db"), ServiceState::Ready);     // each event applied at once
    EXPECT_EQ(h.state("api"), ServiceState::Pending);  // its consequences wait
    EXPECT_EQ(h.sys.spawned.size(), 2u);
    h.sup.end_batch();
    EXPECT_EQ(h.state("api"), ServiceState::Starting);
    EXPECT_EQ(h.sys.spawned.size(), 3u);
    // A batch in which nothing happened costs nothing and changes nothing.
    h.sup.begin_batch();
    h.sup.end_batch();
    EXPECT_EQ(h.sys.spawned.size(), 3u);
}
