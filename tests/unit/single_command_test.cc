// `supervisor run -- COMMAND` (core/single_command.h): the configuration
// of single-command mode, the drop-in for tini and dumb-init.
#include "single_command.h"

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

namespace sv {
namespace {

using namespace std::chrono_literals;

Config config_for(std::vector<std::string> argv) {
    SingleCommandOptions o;
    o.argv = std::move(argv);
    return single_command_config(o);
}

TEST(SingleCommandConfig, OneServiceNamedAfterTheProgram) {
    const Config c = config_for({"/usr/bin/python3", "-m", "http.server"});
    ASSERT_EQ(c.services.size(), 1u);
    EXPECT_EQ(c.services[0].name, "python3");
    EXPECT_EQ(c.services[0].argv,
              (std::vector<std::string>{"/usr/bin/python3", "-m", "http.server"}));
    EXPECT_EQ(c.file, "<command line>");
    EXPECT_EQ(config_for({"sleep", "5"}).services[0].name, "sleep");
    EXPECT_EQ(config_for({"./bin/app"}).services[0].name, "app");
}

TEST(SingleCommandConfig, NameWithoutABasename) {
    // Something has to be shown in the log prefix.
    EXPECT_EQ(config_for({"/usr/bin/"}).services[0].name, "command");
}

TEST(SingleCommandConfig, CriticalInheritedNeverRestarted) {
    // tini semantics: the command's end is the run's end, its output goes
    // straight to ours.
    const ServiceConfig s = config_for({"app"}).services[0];
    EXPECT_TRUE(s.critical);
    EXPECT_EQ(s.log, LogMode::Inherit);
    EXPECT_EQ(s.restart, RestartPolicy::Never);
    EXPECT_EQ(s.type, ServiceType::Longrun);
    EXPECT_EQ(s.ready.kind, ProbeKind::None);
    EXPECT_TRUE(s.depends_on.empty());
}

TEST(SingleCommandConfig, DefaultGraceAndShutdownTimeout) {
    const Config c = config_for({"app"});
    EXPECT_EQ(c.services[0].stop_grace, 10s);
    EXPECT_EQ(c.supervisor.shutdown_timeout, 25s);  // 2 x 10s + 5s
}

TEST(SingleCommandConfig, GraceSetsTheShutdownTimeout) {
    SingleCommandOptions o;
    o.argv = {"app"};
    o.grace = 3s;
    const Config c = single_command_config(o);
    EXPECT_EQ(c.services[0].stop_grace, 3s);
    EXPECT_EQ(c.supervisor.shutdown_timeout, 11s);  // 2 x 3s + 5s
    o.grace = 0ms;
    EXPECT_EQ(single_command_config(o).supervisor.shutdown_timeout, 5s);
}

TEST(SingleCommandConfig, StopSignal) {
    EXPECT_EQ(config_for({"app"}).services[0].stop_signal, SIGTERM);
    SingleCommandOptions o;
    o.argv = {"app"};
    o.stop_signal = SIGQUIT;
    EXPECT_EQ(single_command_config(o).services[0].stop_signal, SIGQUIT);
}

TEST(SingleCommandConfig, HealthEndpointOffUnlessGiven) {
    // In a container nobody expects a port to open behind their back.
    EXPECT_EQ(config_for({"app"}).supervisor.health_listen, "");
    SingleCommandOptions o;
    o.argv = {"app"};
    o.health_listen = "127.0.0.1:9180";
    EXPECT_EQ(single_command_config(o).supervisor.health_listen, "127.0.0.1:9180");
}

}  // namespace
}  // namespace sv
