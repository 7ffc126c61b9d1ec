// `supervisor run -c FILE -- COMMAND` (core/single_command.h): the main
// command starts once every service is ready, holds the terminal, stops
// first, and its status is the run's; a critical service that ends first
// stops it and gives the exit code.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>

#include "fake_sys.h"
#include "single_command.h"

using namespace sv;
using namespace sv::test;
using namespace std::chrono_literals;

namespace {

// db (ready by a probe) <- api, a oneshot `migrate`, and the main command
// `app` after all of them.
Config stack(Duration drain = 0s) {
    ConfigBuilder b;
    b.add_tcp_ready("db");
    b.add("api", {"db"});
    b.add("migrate").type = ServiceType::Oneshot;
    b.config.supervisor.drain_delay = drain;
    add_main_command(b.config, {.argv = {"/usr/bin/app", "--serve"}});
    return b.config;
}

// Everything up; the main command running.
void all_up(Harness& h) {
    h.sup.start();
    h.exec_ok("db");
    h.sup.on_probe_result(h.index("db"), ProbeRole::Ready, true, "");
    h.exec_ok("api");
    h.exec_ok("migrate");
    h.exit("migrate", 0);
    ASSERT_EQ(h.state("app"), ServiceState::Starting);
    h.exec_ok("app");
}

}  // namespace

TEST(MainCommand, AddedAfterTheServicesAndNamedAfterItsProgram) {
    const Config c = stack();
    ASSERT_EQ(c.services.size(), 4u);
    const ServiceConfig& s = c.services.back();
    EXPECT_EQ(s.name, "app");
    EXPECT_TRUE(s.main_command);
    EXPECT_TRUE(s.critical);
    EXPECT_EQ(s.restart, RestartPolicy::Never);
    EXPECT_EQ(s.log, LogMode::Inherit);
    EXPECT_TRUE(s.depends_on.empty());  // the graph adds the edges, not the file
    const Graph g(c);
    EXPECT_EQ(g.dependencies(3), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(MainCommand, ANameTakenByAServiceGetsASuffix) {
    ConfigBuilder b;
    b.add("app");
    b.add("app-command");
    add_main_command(b.config, {.argv = {"./app"}});
    EXPECT_EQ(b.config.services.back().name, "app-command-command");
}

TEST(MainCommand, StartsOnceEveryServiceIsReadyWithTheTerminal) {
    Harness h(stack());
    h.sup.start();
    h.exec_ok("db");
    h.exec_ok("migrate");
    EXPECT_EQ(h.state("app"), ServiceState::Pending);
    h.sup.on_probe_result(h.index("db"), ProbeRole::Ready, true, "");
    h.exec_ok("api");
    EXPECT_EQ(h.state("app"), ServiceState::Pending);  // the oneshot has not completed
    h.exit("migrate", 0);
    ASSERT_EQ(h.state("app"), ServiceState::Starting);
    const SpawnPlan& plan = h.sys.plans.back();
    EXPECT_EQ(plan.argv, (std::vector<std::string>{"/usr/bin/app", "--serve"}));
    EXPECT_TRUE(plan.foreground);
    EXPECT_EQ(plan.stdin_mode, StdioMode::Inherit);
    EXPECT_EQ(plan.stdout_mode, StdioMode::Inherit);
    // The others keep their own session and /dev/null as stdin.
    EXPECT_FALSE(h.sys.plans[0].foreground);
    EXPECT_EQ(h.sys.plans[0].stdin_mode, StdioMode::Null);
}

TEST(MainCommand, ItsExitStopsTheServicesInReverseOrderWithoutDrainAndGivesItsStatus) {
    Harness h(stack(5s));
    all_up(h);
    h.exit("app", 3);
    EXPECT_TRUE(h.logged("app: the main command exited with status 3; stopping the services"));
    EXPECT_EQ(h.sup.phase(), Phase::Stopping);  // no drain: the command is the run
    EXPECT_EQ(h.sys.signals_to(h.pid("api")), (std::vector<int>{SIGTERM}));
    EXPECT_TRUE(h.sys.signals_to(h.pid("db")).empty());  // api first
    h.killed("api", SIGTERM);
    EXPECT_EQ(h.sys.signals_to(h.pid("db")), (std::vector<int>{SIGTERM}));
    h.killed("db", SIGTERM);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 3);
}

TEST(MainCommand, SuccessAndSignalsAreItsOwnStatus) {
    for (auto [how, code] : {std::pair{0, 0}, std::pair{-SIGKILL, 137}}) {
        Harness h(stack());
        all_up(h);
        if (how < 0)
            h.killed("app", -how);
        else
            h.exit("app", how);
        h.killed("api", SIGTERM);
        h.killed("db", SIGTERM);
        EXPECT_TRUE(h.sup.finished());
        EXPECT_EQ(h.sup.exit_code(), code);
    }
}

TEST(MainCommand, SigtermStopsItAfterTheDrainThenTheServices) {
    Harness h(stack(2s));
    all_up(h);
    h.sup.on_signal(SIGTERM);
    EXPECT_EQ(h.sup.phase(), Phase::Draining);
    EXPECT_TRUE(h.sys.signals_to(h.pid("app")).empty());
    h.advance(2s);
    EXPECT_EQ(h.sys.signals_to(h.pid("app")), (std::vector<int>{SIGTERM}));
    EXPECT_TRUE(h.sys.signals_to(h.pid("api")).empty());  // the command first
    EXPECT_TRUE(h.sys.signals_to(h.pid("db")).empty());
    h.killed("app", SIGTERM);
    EXPECT_EQ(h.sys.signals_to(h.pid("api")), (std::vector<int>{SIGTERM}));
    h.killed("api", SIGTERM);
    h.killed("db", SIGTERM);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 128 + SIGTERM);  // as in single-command mode
}

TEST(MainCommand, ACriticalServiceThatEndsFirstStopsItAndGivesTheExitCode) {
    Harness h(stack());
    all_up(h);
    h.exit("db", 4);  // critical by default
    EXPECT_EQ(h.sys.signals_to(h.pid("app")), (std::vector<int>{SIGTERM}));
    h.exit("app", 0);
    h.killed("api", SIGTERM);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 4);
}

TEST(MainCommand, ACriticalServiceThatFailsBeforeItNeverStartsIt) {
    Harness h(stack());
    h.sup.start();
    h.exec_ok("migrate");
    h.exit("migrate", 2);  // a failed critical oneshot
    h.exec_ok("db");
    h.killed("db", SIGTERM);
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sys.pid_of.count(h.index("app")), 0u);
    EXPECT_EQ(h.sup.exit_code(), 2);
}

TEST(MainCommand, ANonCriticalServiceThatFailsForGoodLeavesItUnstartedAndExits1) {
    ConfigBuilder b;
    auto& side = b.add("side");
    side.critical = false;
    side.type = ServiceType::Oneshot;
    add_main_command(b.config, {.argv = {"app"}});
    Harness h(b.config);
    h.sup.start();
    h.exec_ok("side");
    h.exit("side", 1);
    EXPECT_TRUE(h.logged("app: not started: dependency 'side' failed"));
    EXPECT_TRUE(h.sup.finished());
    EXPECT_EQ(h.sup.exit_code(), 1);
}

TEST(MainCommand, ExecFailureGives127Or126) {
    for (auto [err, code] : {std::pair{ENOENT, 127}, std::pair{EACCES, 126}}) {
        Harness h(stack());
        h.sup.start();
        h.exec_ok("db");
        h.sup.on_probe_result(h.index("db"), ProbeRole::Ready, true, "");
        h.exec_ok("api");
        h.exec_ok("migrate");
        h.exit("migrate", 0);
        h.sup.on_exec_result(h.pid("app"), ExecResult::failed(err, "cannot execute app", "?"));
        h.exit("app", 127);
        h.killed("api", SIGTERM);
        h.killed("db", SIGTERM);
        EXPECT_TRUE(h.sup.finished());
        EXPECT_EQ(h.sup.exit_code(), code);
    }
}

TEST(MainCommand, StoppingAServiceByRequestLeavesItRunning) {
    Harness h(stack());
    all_up(h);
    std::vector<std::size_t> ids;
    std::string error;
    ASSERT_TRUE(h.sup.find_services({"db"}, ids, error)) << error;
    ASSERT_TRUE(h.sup.request_stop(ids, error)) << error;
    EXPECT_EQ(h.sys.signals_to(h.pid("api")), (std::vector<int>{SIGTERM}));
    EXPECT_TRUE(h.sys.signals_to(h.pid("app")).empty());
    h.killed("api", SIGTERM);
    h.killed("db", SIGTERM);
    EXPECT_EQ(h.state("app"), ServiceState::Ready);
    EXPECT_FALSE(h.sup.shutting_down());
}
