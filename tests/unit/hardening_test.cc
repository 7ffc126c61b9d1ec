// The core's side of the hardening: signals that no manager may lose,
// nothing of a crashed run left behind, and a floor under the back-off.
// Each test replays events against FakeSys, as lifecycle_test.cc does.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "fake_sys.h"
#include "signal_policy.h"

using namespace sv;
using namespace sv::test;
using namespace std::chrono_literals;

namespace {

RunContext as_pid1() {
    RunContext c;
    c.pid1 = true;
    return c;
}

bool watched(RunMode mode, int sig, bool pid1 = false) {
    for (int s : watched_signals(mode, pid1))
        if (s == sig) return true;
    return false;
}

}  // namespace

// --- the signal table --------------------------------------------------------

TEST(SignalPolicy, ManagersStopSignalsShutDownGracefully) {
    for (int sig : {SIGTERM, SIGINT, SIGPWR, SIGRTMIN + 3})
        EXPECT_EQ(signal_action(sig, RunMode::Config, true), SignalAction::Shutdown) << sig;
    EXPECT_EQ(signal_action(SIGPWR, RunMode::SingleCommand, true), SignalAction::Shutdown);
    EXPECT_EQ(signal_action(SIGRTMIN + 3, RunMode::SingleCommand, true), SignalAction::Shutdown);
    // Not PID 1, a command under `run --` gets them as tini would pass them.
    EXPECT_EQ(signal_action(SIGPWR, RunMode::SingleCommand, false), SignalAction::Forward);
}

TEST(SignalPolicy, ConfigModeForwardsTheUsualFiveAndIgnoresTheRest) {
    for (int sig : {SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH})
        EXPECT_EQ(signal_action(sig, RunMode::Config, false), SignalAction::Forward) << sig;
    for (int sig : {SIGALRM, SIGVTALRM, SIGPROF, SIGURG, SIGXCPU, SIGIO, SIGRTMIN + 4})
        EXPECT_EQ(signal_action(sig, RunMode::Config, true), SignalAction::Ignore) << sig;
}

TEST(SignalPolicy, SingleCommandForwardsEveryCatchableSignal) {
    for (int sig : watched_signals(RunMode::SingleCommand, false)) {
        if (sig == SIGTERM || sig == SIGINT) continue;
        EXPECT_EQ(signal_action(sig, RunMode::SingleCommand, false), SignalAction::Forward) << sig;
    }
    for (int sig : {SIGALRM, SIGTSTP, SIGCONT, SIGRTMIN, SIGRTMAX, SIGWINCH})
        EXPECT_TRUE(watched(RunMode::SingleCommand, sig)) << sig;
}

TEST(SignalPolicy, WatchesEverySignalButKillStopAndChld) {
    for (RunMode mode : {RunMode::Config, RunMode::SingleCommand}) {
        for (int sig : {SIGKILL, SIGSTOP, SIGCHLD}) EXPECT_FALSE(watched(mode, sig)) << sig;
        // None of these may kill us or vanish: read from the signalfd, and
        // logged (configuration) or forwarded (single command).
        for (int sig :
             {SIGPIPE, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT, SIGTTIN, SIGTTOU})
            EXPECT_TRUE(watched(mode, sig)) << sig;
    }
    EXPECT_EQ(signal_action(SIGPIPE, RunMode::SingleCommand, true), SignalAction::Forward);
    EXPECT_EQ(signal_action(SIGSEGV, RunMode::Config, true), SignalAction::Ignore);
    // Ctrl+Z suspends a developer's `supervisor run` like any program; as
    // PID 1, where the default would drop them unseen, they are logged.
    EXPECT_FALSE(watched(RunMode::Config, SIGTSTP));
    EXPECT_FALSE(watched(RunMode::Config, SIGCONT));
    EXPECT_TRUE(watched(RunMode::Config, SIGTSTP, true));
    EXPECT_TRUE(watched(RunMode::Config, SIGCONT, true));
    EXPECT_TRUE(watched(RunMode::Config, SIGALRM));
    EXPECT_TRUE(watched(RunMode::Config, SIGPWR));
    EXPECT_TRUE(watched(RunMode::Config, SIGRTMIN + 3));
}

// --- signals end to end in the core -----------------------------------------

TEST(Signals, SigpwrStopsGracefullyInReverseOrder) {
    ConfigBuilder b;
    b.add("db");
    b.add("api", {"db"});
    Harness h(b.config, RunMode::Config, as_pid1());
    h.sup.start();
    h.exec_ok("db");
    h.exec_ok("api");
    h.sup.on_signal(SIGPWR);
    EXPECT_TRUE(h.sup.shutting_down());
    EXPECT_EQ(h.sys.signals_to(h.pid("api")), (std::vector<int>{SIGTERM}));
    EXPECT_TRUE(h.sys.signals_to(h.pid("db")).empty());  // dependents first
    h.killed("api", SIGTERM);
    h.killed("db", SIGTERM);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 0);
}

TEST(Signals, SystemdNspawnHaltStopsGracefully) {
    ConfigBuilder b;
    b.add("api");
    Harness h(b.config, RunMode::Config, as_pid1());
    h.sup.start();
    h.exec_ok("api");
    h.sup.on_signal(SIGRTMIN + 3);
    EXPECT_EQ(h.sys.signals_to(h.pid("api")), (std::vector<int>{SIGTERM}));
}

TEST(Signals, OtherSignalsAreLoggedNotFatalNorForwarded) {
    ConfigBuilder b;
    b.add("api");
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("api");
    h.sup.on_signal(SIGALRM);
    EXPECT_FALSE(h.sup.shutting_down());
    EXPECT_TRUE(h.sys.kills.empty());
    EXPECT_TRUE(h.logged("received SIGALRM; ignoring it"));
}

TEST(Signals, SingleCommandForwardsASecondSigint) {
    ConfigBuilder b;
    b.add("cmd");
    Harness h(b.config, RunMode::SingleCommand);
    h.sup.start();
    h.exec_ok("cmd");
    h.sup.on_signal(SIGINT);
    h.sup.on_signal(SIGINT);
    // As tini: both reach the command; nothing is SIGKILLed.
    EXPECT_EQ(h.sys.signals_to(h.pid("cmd")), (std::vector<int>{SIGINT, SIGINT}));
    h.killed("cmd", SIGINT);
    EXPECT_EQ(h.sup.exit_code(), 128 + SIGINT);
}

TEST(Signals, SingleCommandForwardsSigalrm) {
    ConfigBuilder b;
    b.add("cmd");
    Harness h(b.config, RunMode::SingleCommand);
    h.sup.start();
    h.exec_ok("cmd");
    h.sup.on_signal(SIGALRM);
    EXPECT_EQ(h.sys.signals_to(h.pid("cmd")), (std::vector<int>{SIGALRM}));
    EXPECT_FALSE(h.sup.shutting_down());
}

TEST(Signals, SingleCommandAsPid1StopsWithTheStopSignalOnSigpwr) {
    ConfigBuilder b;
    b.add("cmd").stop_signal = SIGQUIT;  // --stop-signal QUIT
    Harness h(b.config, RunMode::SingleCommand, as_pid1());
    h.sup.start();
    h.exec_ok("cmd");
    h.sup.on_signal(SIGPWR);
    EXPECT_EQ(h.sys.signals_to(h.pid("cmd")), (std::vector<int>{SIGQUIT}));
}

// --- nothing left behind -----------------------------------------------------

TEST(Leftovers, GroupIsStoppedBeforeTheRestart) {
    ConfigBuilder b;
    auto& web = b.add("web");
    web.restart = RestartPolicy::Always;
    web.stop_grace = 5s;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("web");
    const Pid first = h.pid("web");
    // The leader dies (SIGKILL from outside); its workers live on.
    h.sup.on_child_exit(first, ExitStatus::killed(SIGKILL));
    EXPECT_EQ(h.state("web"), ServiceState::Stopping);
    EXPECT_EQ(h.sys.signals_to(first), (std::vector<int>{SIGTERM}));
    EXPECT_TRUE(h.logged("web: stopping what is left of its process group (SIGTERM, grace 5s)"));
    EXPECT_EQ(h.sys.spawned.size(), 1u);  // no new run beside the old one
    // The workers leave; then, and only then, the policy restarts it.
    h.sys.alive_groups.erase(first);
    h.sup.on_child_exit(first + 50, ExitStatus::exited(0));  // a worker, reaped as an orphan
    EXPECT_EQ(h.state("web"), ServiceState::Backoff);
    h.fire_next_deadline();
    EXPECT_EQ(h.sys.spawned.size(), 2u);
    EXPECT_EQ(h.svc("web").last_exit(), ExitStatus::killed(SIGKILL));
}

TEST(Leftovers, StubbornLeftoversGetSigkillAfterTheGrace) {
    ConfigBuilder b;
    auto& web = b.add("web");
    web.restart = RestartPolicy::Always;
    web.stop_grace = 5s;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("web");
    const Pid first = h.pid("web");
    h.sup.on_child_exit(first, ExitStatus::exited(1));
    h.advance(5s);
    EXPECT_EQ(h.sys.signals_to(first), (std::vector<int>{SIGTERM, SIGKILL}));
    // SIGKILL is certain once sent: the restart policy decides now.
    EXPECT_EQ(h.state("web"), ServiceState::Backoff);
    EXPECT_FALSE(h.svc("web").was_killed());  // the leftovers' kill is not the service's
}

TEST(Leftovers, AnEndedCriticalServiceStillEndsTheRunAfterItsLeftovers) {
    ConfigBuilder b;
    b.add("app");
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("app");
    const Pid leader = h.pid("app");
    h.sup.on_child_exit(leader, ExitStatus::exited(3));
    EXPECT_FALSE(h.sup.shutting_down());  // not before its group is empty
    h.sys.alive_groups.erase(leader);
    h.sup.on_child_exit(leader + 1, ExitStatus::killed(SIGTERM));
    EXPECT_EQ(h.state("app"), ServiceState::Exited);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 3);
}

TEST(Leftovers, ShutdownDuringTheCleanupKeepsItsGrace) {
    ConfigBuilder b;
    auto& web = b.add("web");
    web.restart = RestartPolicy::Always;
    web.stop_grace = 5s;
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("web");
    const Pid leader = h.pid("web");
    h.sup.on_child_exit(leader, ExitStatus::exited(1));
    h.advance(2s);
    h.sup.on_signal(SIGTERM);
    h.sys.alive_groups.erase(leader);
    h.sup.on_child_exit(leader + 1, ExitStatus::killed(SIGTERM));
    EXPECT_EQ(h.state("web"), ServiceState::Exited);  // no restart once shutdown began
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 0);
}

// --- the back-off floor --------------------------------------------------------

TEST(Restart, ZeroDelayStillWaitsTheFloorAndDoubles) {
    ConfigBuilder b;
    auto& w = b.add("worker");
    w.restart = RestartPolicy::Always;
    w.restart_delay = 0ms;
    w.restart_delay_max = 0ms;
    w.critical = false;
    Harness h(b.config);
    h.sup.start();
    std::vector<Duration> delays;
    for (int run = 0; run < 3; ++run) {
        h.exec_ok("worker");
        h.exit("worker", 1);
        const TimePoint before = h.sys.now();
        h.fire_next_deadline();
        delays.push_back(std::chrono::duration_cast<Duration>(h.sys.now() - before));
    }
    // Never a tight loop: at least 10 ms between two runs.
    EXPECT_EQ(delays, (std::vector<Duration>{10ms, 10ms, 10ms}));
}

TEST(Restart, SmallDelaysDoubleFromTheFloor) {
    ConfigBuilder b;
    auto& w = b.add("worker");
    w.restart = RestartPolicy::Always;
    w.restart_delay = 0ms;
    w.restart_delay_max = 30s;
    w.critical = false;
    Harness h(b.config);
    h.sup.start();
    std::vector<Duration> delays;
    for (int run = 0; run < 4; ++run) {
        h.exec_ok("worker");
        h.exit("worker", 1);
        const TimePoint before = h.sys.now();
        h.fire_next_deadline();
        delays.push_back(std::chrono::duration_cast<Duration>(h.sys.now() - before));
    }
    EXPECT_EQ(delays, (std::vector<Duration>{10ms, 20ms, 40ms, 80ms}));
}

TEST(Restart, ADelayAboveTheFloorIsKeptAsWritten) {
    ConfigBuilder b;
    auto& w = b.add("worker");
    w.restart = RestartPolicy::Always;
    w.restart_delay = 50ms;
    w.critical = false;
    Harness h(b.config);
    h.sup.start();
    std::vector<Duration> delays;
    for (int run = 0; run < 3; ++run) {
        h.exec_ok("worker");
        h.exit("worker", 1);
        const TimePoint before = h.sys.now();
        h.fire_next_deadline();
        delays.push_back(std::chrono::duration_cast<Duration>(h.sys.now() - before));
    }
    EXPECT_EQ(delays, (std::vector<Duration>{50ms, 100ms, 200ms}));
}

TEST(Restart, TheCounterDoesNotWrap) {
    static_assert(
        std::is_same_v<decltype(std::declval<const Service&>().restarts()), std::uint64_t>,
        "restarts counts in 64 bits: a crash loop with max_restarts = 0 never wraps");
    SUCCEED();
}

// A SIGKILL that a health failure needed before the shutdown is no verdict
// on the shutdown: every service then stops within its grace, exit 0.
TEST(Hardening, AKillBeforeTheShutdownDoesNotMakeItUnclean) {
    ConfigBuilder b;
    auto& web = b.add("web");
    web.health.kind = ProbeKind::Exec;
    web.health.failures = 1;
    web.restart = RestartPolicy::Always;
    web.restart_delay = std::chrono::seconds(30);
    b.add("other");
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("web");
    h.exec_ok("other");
    h.sup.on_probe_result(0, ProbeRole::Health, false, "exit status 1");
    h.fire_next_deadline();  // the grace runs out: SIGKILL
    ASSERT_EQ(h.sys.signals_to(h.pid("web")).back(), SIGKILL);
    h.killed("web", SIGKILL);
    ASSERT_EQ(h.state("web"), ServiceState::Backoff);
    h.sup.on_signal(SIGTERM);
    h.killed("other", SIGTERM);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 0);
}

// Out of descriptors or processes at spawn time is a passing shortage: the
// restart policy applies (it used to fail the service for good).
TEST(Hardening, ATransientSpawnFailureFollowsTheRestartPolicy) {
    for (int err : {EMFILE, EAGAIN}) {
        ConfigBuilder b;
        b.add("api").restart = RestartPolicy::Always;
        Harness h(b.config);
        h.sys.fail_next_spawn_errno = err;
        h.sup.start();
        EXPECT_EQ(h.state("api"), ServiceState::Backoff) << err;
        EXPECT_FALSE(h.sup.shutting_down());
        h.fire_next_deadline();
        EXPECT_EQ(h.state("api"), ServiceState::Starting);
    }
    // Attempt after attempt, the back-off grows as for a crash loop, even
    // long after the last good run (which would otherwise reset it).
    {
        ConfigBuilder b;
        b.add("api").restart = RestartPolicy::Always;
        Harness h(b.config);
        h.sup.start();
        h.exec_ok("api");
        h.advance(std::chrono::minutes(5));  // a long good run
        h.exit("api", 1);
        std::vector<Duration> delays;
        for (int i = 0; i < 4; ++i) {
            h.sys.fail_next_spawn_errno = EMFILE;
            h.fire_next_deadline();
            ASSERT_EQ(h.state("api"), ServiceState::Backoff);
            delays.push_back(
                std::chrono::duration_cast<Duration>(*h.sup.next_deadline() - h.sys.now()));
        }
        // 100 ms after the crash (the good run reset it), then doubling.
        EXPECT_EQ(delays, (std::vector<Duration>{Duration(200), Duration(400), Duration(800),
                                                 Duration(1600)}));
    }
    // Never restarted: failed at once, as before; so is a lasting cause.
    ConfigBuilder b;
    b.add("api");
    Harness h(b.config);
    h.sys.fail_next_spawn_errno = EMFILE;
    h.sup.start();
    EXPECT_EQ(h.state("api"), ServiceState::Failed);
    EXPECT_EQ(h.sup.exit_code(), 1);
}
