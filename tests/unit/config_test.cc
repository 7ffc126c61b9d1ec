// Configuration loading: every default, every key, and every class of error
// with its exact FILE:LINE:COLUMN (docs/configuration.md).
#include "config.h"

#include <gtest/gtest.h>

#include <csignal>

#include "suggest.h"

namespace sv {
namespace {

using std::chrono::milliseconds;

Config parse(std::string_view text) {
    return parse_config(text, "t.toml");
}

// The full message of the ConfigError the text raises, or "no error".
std::string error_of(std::string_view text) {
    try {
        parse_config(text, "t.toml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

constexpr const char* kMinimal = R"([services.app]
command = ["/bin/true"]
)";

// ---- defaults --------------------------------------------------------------

TEST(ConfigDefaults, Supervisor) {
    Config c = parse(kMinimal);
    EXPECT_EQ(c.file, "t.toml");
    EXPECT_EQ(c.supervisor.health_listen, "127.0.0.1:9180");
    EXPECT_EQ(c.supervisor.drain_delay, milliseconds(0));
    EXPECT_EQ(c.supervisor.shutdown_timeout, milliseconds(60000));
    EXPECT_EQ(c.supervisor.log_format, LogFormat::Text);
    EXPECT_EQ(c.supervisor.on_exit, OnExit::Exit);
}

TEST(ConfigDefaults, Service) {
    Config c = parse(kMinimal);
    ASSERT_EQ(c.services.size(), 1u);
    const ServiceConfig& s = c.services[0];
    EXPECT_EQ(s.name, "app");
    EXPECT_EQ(s.pos.line, 1);
    EXPECT_EQ(s.pos.column, 1);
    EXPECT_EQ(s.argv, std::vector<std::string>{"/bin/true"});
    EXPECT_FALSE(s.via_shell);
    EXPECT_TRUE(s.env.empty());
    EXPECT_EQ(s.workdir, "");
    EXPECT_EQ(s.user, "");
    EXPECT_EQ(s.group, "");
    EXPECT_EQ(s.type, ServiceType::Longrun);
    EXPECT_TRUE(s.depends_on.empty());
    EXPECT_TRUE(s.depends_on_pos.empty());
    EXPECT_EQ(s.stop_signal, SIGTERM);
    EXPECT_EQ(s.stop_grace, milliseconds(10000));
    EXPECT_EQ(s.restart, RestartPolicy::Never);
    EXPECT_EQ(s.restart_delay, milliseconds(100));
    EXPECT_EQ(s.restart_delay_max, milliseconds(30000));
    EXPECT_EQ(s.max_restarts, 0);
    EXPECT_TRUE(s.critical);
    EXPECT_EQ(s.success_codes, std::vector<int>{0});
    EXPECT_EQ(s.log, LogMode::Prefix);
}

TEST(ConfigDefaults, Probes) {
    const ServiceConfig s = parse(kMinimal).services[0];
    EXPECT_EQ(s.ready.kind, ProbeKind::None);
    EXPECT_EQ(s.ready.interval, milliseconds(250));
    EXPECT_EQ(s.ready.timeout, milliseconds(1000));
    EXPECT_EQ(s.ready.start_timeout, milliseconds(60000));
    EXPECT_EQ(s.health.kind, ProbeKind::None);
    EXPECT_EQ(s.health.interval, milliseconds(10000));
    EXPECT_EQ(s.health.timeout, milliseconds(2000));
    EXPECT_EQ(s.health.failures, 3);

    const ServiceConfig p = parse(R"([services.a]
command = "x"
[services.a.ready]
tcp = "127.0.0.1:1"
[services.a.health]
tcp = "127.0.0.1:1"
)")
                                .services[0];
    EXPECT_EQ(p.ready.interval, milliseconds(250));
    EXPECT_EQ(p.ready.timeout, milliseconds(1000));
    EXPECT_EQ(p.ready.start_timeout, milliseconds(60000));
    EXPECT_EQ(p.health.interval, milliseconds(10000));
    EXPECT_EQ(p.health.timeout, milliseconds(2000));
    EXPECT_EQ(p.health.failures, 3);
}

TEST(ConfigDefaults, IsSuccess) {
    ServiceConfig s;
    EXPECT_TRUE(s.is_success(0));
    EXPECT_FALSE(s.is_success(1));
    s.success_codes = {0, 143};
    EXPECT_TRUE(s.is_success(143));
}

// ---- every key ---------------------------------------------------------------

TEST(ConfigKeys, EverySupervisorKey) {
    Config c = parse(R"([supervisor]
health_listen = "0.0.0.0:9999"
drain_delay = "5s"
shutdown_timeout = "2m"
log_format = "json"
on_exit = "poweroff"
[services.a]
command = "x"
)");
    EXPECT_EQ(c.supervisor.health_listen, "0.0.0.0:9999");
    EXPECT_EQ(c.supervisor.drain_delay, milliseconds(5000));
    EXPECT_EQ(c.supervisor.shutdown_timeout, milliseconds(120000));
    EXPECT_EQ(c.supervisor.log_format, LogFormat::Json);
    EXPECT_EQ(c.supervisor.on_exit, OnExit::Poweroff);
    EXPECT_EQ(
        parse("supervisor.on_exit = \"reboot\"\nservices.a.command = \"x\"\n").supervisor.on_exit,
        OnExit::Reboot);
}

TEST(ConfigKeys, HealthListenOffAndIpv6) {
    EXPECT_EQ(parse("supervisor.health_listen = \"\"\nservices.a.command = \"x\"\n")
                  .supervisor.health_listen,
              "");
    EXPECT_EQ(parse("supervisor.health_listen = \"[::1]:0\"\nservices.a.command = \"x\"\n")
                  .supervisor.health_listen,
              "[::1]:0");
}

TEST(ConfigKeys, EveryServiceKey) {
    Config c = parse(R"([services.db]
command = ["postgres", "-D", "/data"]
[services.api]
command = ["/usr/bin/api", "--port", "8080"]
env = { B = "2", A = "1" }
workdir = "/srv"
user = "www-data"
group = 33
type = "oneshot"
depends_on = ["db"]
stop_signal = "SIGINT"
stop_grace = "3s"
restart = "on-failure"
restart_delay = "1s"
restart_delay_max = "1m"
max_restarts = 5
critical = false
success_codes = [0, 143]
log = "null"
)");
    ASSERT_EQ(c.services.size(), 2u);
    const ServiceConfig& s = c.services[1];
    EXPECT_EQ(s.name, "api");
    EXPECT_EQ(s.pos.line, 3);
    EXPECT_EQ(s.argv, (std::vector<std::string>{"/usr/bin/api", "--port", "8080"}));
    EXPECT_FALSE(s.via_shell);
    using Env = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(s.env, (Env{{"A", "1"}, {"B", "2"}}));  // sorted by name
    EXPECT_EQ(s.workdir, "/srv");
    EXPECT_EQ(s.user, "www-data");
    EXPECT_EQ(s.group, "33");
    EXPECT_EQ(s.type, ServiceType::Oneshot);
    EXPECT_EQ(s.depends_on, std::vector<std::string>{"db"});
    ASSERT_EQ(s.depends_on_pos.size(), 1u);
    EXPECT_EQ(s.depends_on_pos[0].line, 10);
    EXPECT_EQ(s.depends_on_pos[0].column, 15);
    EXPECT_EQ(s.stop_signal, SIGINT);
    EXPECT_EQ(s.stop_grace, milliseconds(3000));
    EXPECT_EQ(s.restart, RestartPolicy::OnFailure);
    EXPECT_EQ(s.restart_delay, milliseconds(1000));
    EXPECT_EQ(s.restart_delay_max, milliseconds(60000));
    EXPECT_EQ(s.max_restarts, 5);
    EXPECT_FALSE(s.critical);
    EXPECT_EQ(s.success_codes, (std::vector<int>{0, 143}));
    EXPECT_EQ(s.log, LogMode::Null);
}

TEST(ConfigKeys, EnumValues) {
    auto svc = [](const std::string& line) {
        return parse("[services.a]\ncommand = \"x\"\n" + line + "\n").services[0];
    };
    EXPECT_EQ(svc("type = \"longrun\"").type, ServiceType::Longrun);
    EXPECT_EQ(svc("restart = \"never\"").restart, RestartPolicy::Never);
    EXPECT_EQ(svc("restart = \"always\"").restart, RestartPolicy::Always);
    EXPECT_EQ(svc("log = \"prefix\"").log, LogMode::Prefix);
    EXPECT_EQ(svc("log = \"inherit\"").log, LogMode::Inherit);
    EXPECT_EQ(svc("user = 0").user, "0");
    EXPECT_EQ(svc("user = \"1000\"").user, "1000");
}

TEST(ConfigKeys, StringCommandRunsThroughShell) {
    const ServiceConfig s = parse("[services.a]\ncommand = \"echo hi && sleep 1\"\n").services[0];
    EXPECT_EQ(s.argv, (std::vector<std::string>{"/bin/sh", "-c", "echo hi && sleep 1"}));
    EXPECT_TRUE(s.via_shell);
}

TEST(ConfigKeys, DurationsAsNumbersAndStrings) {
    auto grace = [](const std::string& value) {
        return parse("[services.a]\ncommand = \"x\"\nstop_grace = " + value + "\n")
            .services[0]
            .stop_grace;
    };
    EXPECT_EQ(grace("5"), milliseconds(5000));
    EXPECT_EQ(grace("0.5"), milliseconds(500));
    EXPECT_EQ(grace("0"), milliseconds(0));
    EXPECT_EQ(grace("\"7\""), milliseconds(7000));
    EXPECT_EQ(grace("\"250ms\""), milliseconds(250));
    EXPECT_EQ(grace("\"1m30s\""), milliseconds(90000));
    EXPECT_EQ(grace("\"1.5s\""), milliseconds(1500));
    EXPECT_EQ(grace("\"1h\""), milliseconds(3600000));
}

TEST(ConfigKeys, SignalsByNameOrNumber) {
    auto sig = [](const std::string& value) {
        return parse("[services.a]\ncommand = \"x\"\nstop_signal = " + value + "\n")
            .services[0]
            .stop_signal;
    };
    EXPECT_EQ(sig("\"TERM\""), SIGTERM);
    EXPECT_EQ(sig("\"SIGTERM\""), SIGTERM);
    EXPECT_EQ(sig("\"sigquit\""), SIGQUIT);
    EXPECT_EQ(sig("\"KILL\""), SIGKILL);
    EXPECT_EQ(sig("9"), 9);
    EXPECT_EQ(sig("\"15\""), 15);
}

TEST(ConfigKeys, EnvConvertsIntegersAndBooleans) {
    const ServiceConfig s =
        parse("[services.a]\ncommand = \"x\"\nenv = { PORT = 8080, DEBUG = true, NAME = \"n\" }\n")
            .services[0];
    using Env = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(s.env, (Env{{"DEBUG", "true"}, {"NAME", "n"}, {"PORT", "8080"}}));
}

TEST(ConfigKeys, LongRestartDelayRaisesDefaultMax) {
    const ServiceConfig s =
        parse("[services.a]\ncommand = \"x\"\nrestart_delay = \"1m\"\n").services[0];
    EXPECT_EQ(s.restart_delay, milliseconds(60000));
    EXPECT_EQ(s.restart_delay_max, milliseconds(60000));
}

TEST(ConfigKeys, ReadyProbes) {
    Config c = parse(R"([services.t]
command = "x"
[services.t.ready]
tcp = "127.0.0.1:5432"
interval = "100ms"
timeout = "2s"
start_timeout = "5m"
[services.h]
command = "x"
ready = { http = "http://127.0.0.1:8080/ready" }
[services.e]
command = "x"
ready.exec = ["pg_isready", "-q"]
[services.s]
command = "x"
ready.exec = "test -f /tmp/ready"
[services.n]
command = "x"
ready.notify = true
)");
    const auto& t = c.services[0].ready;
    EXPECT_EQ(t.kind, ProbeKind::Tcp);
    EXPECT_EQ(t.address, "127.0.0.1:5432");
    EXPECT_EQ(t.interval, milliseconds(100));
    EXPECT_EQ(t.timeout, milliseconds(2000));
    EXPECT_EQ(t.start_timeout, milliseconds(300000));
    EXPECT_EQ(t.pos.line, 3);
    EXPECT_EQ(t.pos.column, 1);
    EXPECT_EQ(c.services[1].ready.kind, ProbeKind::Http);
    EXPECT_EQ(c.services[1].ready.address, "http://127.0.0.1:8080/ready");
    EXPECT_EQ(c.services[2].ready.kind, ProbeKind::Exec);
    EXPECT_EQ(c.services[2].ready.argv, (std::vector<std::string>{"pg_isready", "-q"}));
    EXPECT_EQ(c.services[3].ready.argv,
              (std::vector<std::string>{"/bin/sh", "-c", "test -f /tmp/ready"}));
    EXPECT_EQ(c.services[4].ready.kind, ProbeKind::Notify);
}

TEST(ConfigKeys, HealthProbe) {
    const ServiceConfig s = parse(R"([services.api]
command = "x"
[services.api.health]
http = "http://localhost/healthz"
interval = "30s"
timeout = "5s"
failures = 5
)")
                                .services[0];
    EXPECT_EQ(s.health.kind, ProbeKind::Http);
    EXPECT_EQ(s.health.address, "http://localhost/healthz");
    EXPECT_EQ(s.health.interval, milliseconds(30000));
    EXPECT_EQ(s.health.timeout, milliseconds(5000));
    EXPECT_EQ(s.health.failures, 5);
    EXPECT_EQ(s.ready.kind, ProbeKind::None);
}

TEST(ConfigKeys, NotifyFalseIsNoKind) {
    const ServiceConfig s =
        parse("[services.a]\ncommand = \"x\"\nready = { notify = false, tcp = \"h:1\" }\n")
            .services[0];
    EXPECT_EQ(s.ready.kind, ProbeKind::Tcp);
}

TEST(ConfigKeys, ServicesInFileOrder) {
    EXPECT_EQ(parse("[services.b.ready]\nnotify = true\n[services.a]\ncommand = \"x\"\n"
                    "[services.b]\ncommand = \"x\"\n")
                  .services[0]
                  .name,
              "a");
    Config c = parse(R"([services.zeta]
command = "x"
[services.alpha.ready]
notify = true
[services.mid]
command = "x"
[services.alpha]
command = "x"
)");
    ASSERT_EQ(c.services.size(), 3u);
    EXPECT_EQ(c.services[0].name, "zeta");
    EXPECT_EQ(c.services[1].name, "mid");
    // A sub-table header may open a service first; its own header, when it
    // comes later, is where it is (toml++ moves the table's position there).
    EXPECT_EQ(c.services[2].name, "alpha");
    EXPECT_EQ(c.services[2].pos.line, 7);
    EXPECT_EQ(c.find("mid"), 1);
    EXPECT_EQ(c.find("nope"), -1);
}

TEST(ConfigKeys, ServiceNames) {
    Config c = parse(R"([services."web.v2"]
command = "x"
[services.A-b_9]
command = "x"
)");
    EXPECT_EQ(c.services[0].name, "web.v2");
    EXPECT_EQ(c.services[1].name, "A-b_9");
    EXPECT_NO_THROW(parse("[services." + std::string(64, 'a') + "]\ncommand = \"x\"\n"));
}

// ---- errors ------------------------------------------------------------------

TEST(ConfigErrors, RendersPosition) {
    EXPECT_STREQ(ConfigError("f.toml", {3, 7}, "bad").what(), "f.toml:3:7: bad");
    EXPECT_STREQ(ConfigError("f.toml", {}, "cannot read: x").what(), "f.toml: cannot read: x");
    ConfigError e("f.toml", {3, 7}, "bad");
    EXPECT_EQ(e.file(), "f.toml");
    EXPECT_EQ(e.message(), "bad");
    EXPECT_EQ(e.pos().line, 3);
}

TEST(ConfigErrors, TomlSyntax) {
    EXPECT_EQ(error_of("[services.a]\ncommand = \n"),
              "t.toml:2:11: Error while parsing key-value pair: expected value, saw '\\n'");
    EXPECT_EQ(error_of("[services.a]\ncommand = \"x\"\ncommand = \"y\"\n").rfind("t.toml:3:", 0),
              0u);
}

TEST(ConfigErrors, UnknownServiceKeyWithSuggestion) {
    EXPECT_EQ(
        error_of(R"([services.api]
  command = "x"
  stop_grase = "5s"
)"),
        "t.toml:3:3: unknown key 'stop_grase' in [services.api] (did you mean 'stop_grace'?)");
    EXPECT_EQ(error_of("[services.api]\ncommand = \"x\"\ndepend_on = []\n"),
              "t.toml:3:1: unknown key 'depend_on' in [services.api] (did you mean 'depends_on'?)");
    EXPECT_EQ(
        error_of("[services.api]\ncommand = \"x\"\nstop_garce = 1\n"),
        "t.toml:3:1: unknown key 'stop_garce' in [services.api] (did you mean 'stop_grace'?)");
}

TEST(ConfigErrors, UnknownKeyWithoutSuggestion) {
    EXPECT_EQ(error_of("[services.api]\ncommand = \"x\"\nport = 8080\n"),
              "t.toml:3:1: unknown key 'port' in [services.api]");
}

TEST(ConfigErrors, UnknownKeyReportsFirstInFile) {
    EXPECT_EQ(error_of("[services.api]\nzzz = 1\ncommand = \"x\"\naaa = 1\n"),
              "t.toml:2:1: unknown key 'zzz' in [services.api]");
}

TEST(ConfigErrors, UnknownTopLevelAndSupervisorKeys) {
    EXPECT_EQ(error_of("[service.a]\ncommand = \"x\"\n"),
              "t.toml:1:2: unknown key 'service' at the top level (did you mean 'services'?)");
    EXPECT_EQ(error_of("[logging]\n"), "t.toml:1:2: unknown key 'logging' at the top level");
    EXPECT_EQ(error_of("[supervisor]\ndrain = \"1s\"\n"),
              "t.toml:2:1: unknown key 'drain' in [supervisor]");
    EXPECT_EQ(error_of("[supervisor]\nhealth_listn = \"\"\n"),
              "t.toml:2:1: unknown key 'health_listn' in [supervisor] (did you mean "
              "'health_listen'?)");
}

TEST(ConfigErrors, UnknownProbeKeys) {
    EXPECT_EQ(
        error_of(
            "[services.a]\ncommand = \"x\"\n[services.a.ready]\ntcp = \"h:1\"\nintervall = 1\n"),
        "t.toml:5:1: unknown key 'intervall' in [services.a.ready] (did you mean 'interval'?)");
    EXPECT_EQ(
        error_of("[services.a]\ncommand = \"x\"\n[services.a.health]\ntcp = \"h:1\"\nstart_timeout "
                 "= 1\n"),
        "t.toml:5:1: unknown key 'start_timeout' in [services.a.health] (start_timeout belongs "
        "in [services.a.ready])");
    EXPECT_EQ(
        error_of(
            "[services.a]\ncommand = \"x\"\n[services.a.ready]\ntcp = \"h:1\"\nfailures = 1\n"),
        "t.toml:5:1: unknown key 'failures' in [services.a.ready] (failures belongs in "
        "[services.a.health])");
}

TEST(ConfigErrors, WrongTypes) {
    auto err = [](const std::string& line) {
        return error_of("[services.a]\ncommand = \"x\"\n" + line + "\n");
    };
    EXPECT_EQ(err("stop_grace = [1]"),
              "t.toml:3:14: stop_grace: expected a duration string or a number of seconds, got an "
              "array");
    EXPECT_EQ(err("critical = \"yes\""),
              "t.toml:3:12: critical: expected a boolean (true or false), got a string");
    EXPECT_EQ(err("max_restarts = 1.5"),
              "t.toml:3:16: max_restarts: expected an integer, got a float");
    EXPECT_EQ(err("workdir = 1"), "t.toml:3:11: workdir: expected a string, got an integer");
    EXPECT_EQ(err("env = \"A=1\""), "t.toml:3:7: env: expected a table, got a string");
    EXPECT_EQ(err("env = { A = 1.5 }"), "t.toml:3:13: env.A: expected a string, got a float");
    EXPECT_EQ(err("env = { A = { B = \"1\" } }"),
              "t.toml:3:13: env.A: expected a string, got a table");
    EXPECT_EQ(err("user = true"),
              "t.toml:3:8: user: expected a name or a numeric id, got a boolean");
    EXPECT_EQ(err("user = -1"), "t.toml:3:8: user: -1 is out of range (0..4294967294)");
    EXPECT_EQ(
        err("stop_signal = 1.0"),
        "t.toml:3:15: stop_signal: expected a signal name such as \"SIGTERM\" or a number, got "
        "a float");
    EXPECT_EQ(err("type = 1"), "t.toml:3:8: type: expected a string, got an integer");
    EXPECT_EQ(err("ready = \"tcp\""), "t.toml:3:9: ready: expected a table, got a string");
    EXPECT_EQ(err("success_codes = 0"),
              "t.toml:3:17: success_codes: expected an array of exit statuses (0..255), got an "
              "integer");
    EXPECT_EQ(error_of("[[services]]\ncommand = \"x\"\n"),
              "t.toml:1:1: services: expected a table, got an array");
    EXPECT_EQ(error_of("services.a = \"x\"\n"),
              "t.toml:1:14: services.a: expected a table such as [services.a], got a string");
    EXPECT_EQ(error_of("[services]\ncommand = \"x\"\n"),
              "t.toml:2:11: services.command: expected a table such as [services.command], got a "
              "string");
    EXPECT_EQ(error_of("supervisor = 1\n"),
              "t.toml:1:14: supervisor: expected a table, got an integer");
}

TEST(ConfigErrors, BadDurations) {
    auto err = [](const std::string& line) {
        return error_of("[services.a]\ncommand = \"x\"\n" + line + "\n");
    };
    EXPECT_EQ(err("stop_grace = \"5 sec\""),
              "t.toml:3:14: stop_grace: invalid duration '5 sec' (use e.g. \"250ms\", \"5s\", "
              "\"1m30s\")");
    EXPECT_EQ(err("restart_delay = \"-1s\""),
              "t.toml:3:17: restart_delay: invalid duration '-1s' (use e.g. \"250ms\", \"5s\", "
              "\"1m30s\")");
    EXPECT_EQ(err("stop_grace = nan"), "t.toml:3:14: stop_grace: invalid duration nan");
    EXPECT_EQ(err("stop_grace = inf").rfind("t.toml:3:14: stop_grace: duration too long", 0), 0u);
    EXPECT_EQ(err("stop_grace = -1"), "t.toml:3:14: stop_grace: a duration cannot be negative");
    EXPECT_EQ(err("stop_grace = 1e300"),
              "t.toml:3:14: stop_grace: duration too long (at most 100000h)");
    EXPECT_EQ(error_of("[supervisor]\ndrain_delay = \"1 minute\"\n"),
              "t.toml:2:15: drain_delay: invalid duration '1 minute' (use e.g. \"250ms\", \"5s\", "
              "\"1m30s\")");
    EXPECT_EQ(err("ready = { tcp = \"h:1\", interval = \"0s\" }"),
              "t.toml:3:35: interval: must be longer than 0s");
}

TEST(ConfigErrors, UnknownSignals) {
    auto err = [](const std::string& line) {
        return error_of("[services.a]\ncommand = \"x\"\n" + line + "\n");
    };
    EXPECT_EQ(err("stop_signal = \"SIGFOO\""),
              "t.toml:3:15: stop_signal: unknown signal 'SIGFOO' (use e.g. \"SIGTERM\", \"INT\")");
    EXPECT_EQ(err("stop_signal = 99"), "t.toml:3:15: stop_signal: unknown signal 99");
    EXPECT_EQ(err("stop_signal = 0"), "t.toml:3:15: stop_signal: unknown signal 0");
}

TEST(ConfigErrors, BadCommands) {
    auto err = [](const std::string& line) { return error_of("[services.a]\n" + line + "\n"); };
    EXPECT_EQ(err("command = []"),
              "t.toml:2:11: command: empty command (give the program and its arguments, e.g. "
              "[\"/usr/bin/app\", \"--flag\"])");
    EXPECT_EQ(err("command = \"\""), "t.toml:2:11: command: empty command");
    EXPECT_EQ(err("command = \"   \""), "t.toml:2:11: command: empty command");
    EXPECT_EQ(err("command = [\"a\", 1]"),
              "t.toml:2:17: command[1]: expected a string, got an integer");
    EXPECT_EQ(err("command = [\"\", \"x\"]"), "t.toml:2:12: command: the program name is empty");
    EXPECT_EQ(err("command = 5"),
              "t.toml:2:11: command: expected an array of strings (argv) or a string (run by "
              "/bin/sh -c), got an integer");
    EXPECT_EQ(err("type = \"oneshot\""), "t.toml:1:1: service 'a' has no command");
    EXPECT_EQ(error_of("[services.a]\ncommand = \"x\"\nready.exec = []\n"),
              "t.toml:3:14: exec: empty command (give the program and its arguments, e.g. "
              "[\"/usr/bin/app\", \"--flag\"])");
}

TEST(ConfigErrors, BadValues) {
    auto err = [](const std::string& line) {
        return error_of("[services.a]\ncommand = \"x\"\n" + line + "\n");
    };
    EXPECT_EQ(err("type = \"daemon\""),
              "t.toml:3:8: type: unknown value 'daemon' (expected longrun or oneshot)");
    EXPECT_EQ(err("restart = \"onfailure\""),
              "t.toml:3:11: restart: unknown value 'onfailure' (expected never, on-failure or "
              "always; did you mean 'on-failure'?)");
    EXPECT_EQ(err("log = \"file\""),
              "t.toml:3:7: log: unknown value 'file' (expected prefix, inherit or null)");
    EXPECT_EQ(error_of("[supervisor]\nlog_format = \"yaml\"\n"),
              "t.toml:2:14: log_format: unknown value 'yaml' (expected text or json)");
    EXPECT_EQ(error_of("[supervisor]\non_exit = \"halt\"\n"),
              "t.toml:2:11: on_exit: unknown value 'halt' (expected exit, poweroff or reboot)");
    EXPECT_EQ(err("max_restarts = -1"),
              "t.toml:3:16: max_restarts: -1 is out of range (0..2147483647)");
    EXPECT_EQ(err("success_codes = [0, 256]"),
              "t.toml:3:21: success_codes[1]: 256 is out of range (0..255)");
    EXPECT_EQ(err("success_codes = []"),
              "t.toml:3:17: success_codes: must list at least one exit status, e.g. [0]");
    EXPECT_EQ(err("user = \"\""),
              "t.toml:3:8: user: must not be empty (leave the key out instead)");
    EXPECT_EQ(err("env = { \"A=B\" = \"1\" }"), "t.toml:3:9: env: invalid variable name 'A=B'");
}

TEST(ConfigErrors, RestartDelays) {
    EXPECT_EQ(
        error_of(
            "[services.a]\ncommand = \"x\"\nrestart_delay = \"5s\"\nrestart_delay_max = \"1s\"\n"),
        "t.toml:4:21: restart_delay_max (1s) is shorter than restart_delay (5s)");
}

TEST(ConfigErrors, OneshotRules) {
    EXPECT_EQ(
        error_of("[services.a]\ncommand = \"x\"\ntype = \"oneshot\"\nrestart = \"always\"\n"),
        "t.toml:4:11: restart: a oneshot cannot use \"always\" (it would never complete); use "
        "\"on-failure\"");
    EXPECT_EQ(error_of("[services.a]\ncommand = \"x\"\ntype = "
                       "\"oneshot\"\n[services.a.ready]\nnotify = true\n"),
              "t.toml:4:1: [services.a.ready]: a oneshot is ready when it exits 0; remove this "
              "section or use type = \"longrun\"");
}

TEST(ConfigErrors, ProbeKinds) {
    EXPECT_EQ(
        error_of(R"([services.db]
command = "x"
[services.db.ready]
tcp = "127.0.0.1:5432"
http = "http://127.0.0.1/"
)"),
        "t.toml:3:1: [services.db.ready] has both tcp and http; use exactly one of tcp, http, "
        "exec or notify");
    EXPECT_EQ(error_of("[services.db]\ncommand = \"x\"\n[services.db.ready]\ninterval = \"1s\"\n"),
              "t.toml:3:1: [services.db.ready] needs exactly one of tcp, http, exec or notify");
    EXPECT_EQ(error_of("[services.db]\ncommand = \"x\"\n[services.db.health]\n"),
              "t.toml:3:1: [services.db.health] needs exactly one of tcp, http or exec");
    EXPECT_EQ(error_of("[services.db]\ncommand = \"x\"\n[services.db.health]\nnotify = true\n"),
              "t.toml:4:1: notify: [services.db.health] cannot use notify (it signals readiness "
              "once); use tcp, http or exec");
    EXPECT_EQ(error_of("[services.db]\ncommand = \"x\"\nready = { exec = \"a\", tcp = \"h:1\", "
                       "notify = true }\n"),
              "t.toml:3:9: [services.db.ready] has exec, tcp and notify; use exactly one of tcp, "
              "http, exec or notify");
}

TEST(ConfigErrors, ProbeAddresses) {
    auto err = [](const std::string& probe) {
        return error_of("[services.a]\ncommand = \"x\"\nready = { " + probe + " }\n");
    };
    EXPECT_EQ(err("tcp = \"5432\""),
              "t.toml:3:17: tcp: expected \"host:port\" (e.g. \"127.0.0.1:8080\"), got '5432'");
    EXPECT_EQ(err("tcp = \"h:0\""),
              "t.toml:3:17: tcp: expected \"host:port\" (e.g. \"127.0.0.1:8080\"), got 'h:0'");
    EXPECT_EQ(err("tcp = \"h:70000\""),
              "t.toml:3:17: tcp: expected \"host:port\" (e.g. \"127.0.0.1:8080\"), got 'h:70000'");
    EXPECT_EQ(err("http = \"https://x/\""),
              "t.toml:3:18: http: expected a URL such as \"http://127.0.0.1:8080/ready\" (http:// "
              "only), got 'https://x/'");
    EXPECT_EQ(err("http = \"http://:80/\"").rfind("t.toml:3:18: http: expected a URL", 0), 0u);
    EXPECT_EQ(err("http = \"http://h:x/\"").rfind("t.toml:3:18: http: expected a URL", 0), 0u);
    EXPECT_EQ(err("http = \"http://[::1]:8080/r?x\""), "no error");
    EXPECT_EQ(err("http = \"http://localhost\""), "no error");
    EXPECT_EQ(err("tcp = \"[::1]:22\""), "no error");
    EXPECT_EQ(error_of("supervisor.health_listen = \"9180\"\nservices.a.command = \"x\"\n"),
              "t.toml:1:28: health_listen: expected \"host:port\" (e.g. \"127.0.0.1:8080\"), got "
              "'9180'");
}

TEST(ConfigErrors, ProbeNumbers) {
    EXPECT_EQ(error_of("[services.a]\ncommand = \"x\"\nhealth = { tcp = \"h:1\", failures = 0 }\n"),
              "t.toml:3:36: failures: 0 is out of range (1..2147483647)");
    EXPECT_EQ(
        error_of("[services.a]\ncommand = \"x\"\nready = { tcp = \"h:1\", start_timeout = 0 }\n"),
        "t.toml:3:40: start_timeout: must be longer than 0s");
}

TEST(ConfigErrors, ServiceNames) {
    EXPECT_EQ(error_of("[services.\"my app\"]\ncommand = \"x\"\n"),
              "t.toml:1:11: invalid service name 'my app': use letters, digits, '_', '.' and '-' "
              "(at most 64 characters)");
    EXPECT_EQ(error_of("[services.\"\"]\ncommand = \"x\"\n")
                  .rfind("t.toml:1:11: invalid service name ''", 0),
              0u);
    EXPECT_EQ(error_of("[services." + std::string(65, 'a') + "]\ncommand = \"x\"\n")
                  .rfind("t.toml:1:11: invalid service name", 0),
              0u);
}

TEST(ConfigErrors, NoServices) {
    EXPECT_EQ(error_of(""),
              "t.toml:1:1: no services defined (add a [services.NAME] table with a command)");
    EXPECT_EQ(error_of("[supervisor]\n"),
              "t.toml:1:1: no services defined (add a [services.NAME] table with a command)");
    EXPECT_EQ(error_of("# comment\n[services]\n"),
              "t.toml:2:1: no services defined (add a [services.NAME] table with a command)");
}

TEST(ConfigErrors, DependsOn) {
    auto err = [](const std::string& line) {
        return error_of("[services.db]\ncommand = \"x\"\n[services.api]\ncommand = \"x\"\n" + line +
                        "\n");
    };
    EXPECT_EQ(err("depends_on = \"db\""),
              "t.toml:5:14: depends_on: expected an array of service names, got a string (write "
              "[\"db\"])");
    EXPECT_EQ(err("depends_on = [\"db\", \"db\"]"),
              "t.toml:5:21: depends_on: 'db' is listed twice");
    EXPECT_EQ(err("depends_on = [\"\"]"), "t.toml:5:15: depends_on: empty service name");
    EXPECT_EQ(err("depends_on = [1]"),
              "t.toml:5:15: depends_on[0]: expected a string, got an integer");
    EXPECT_EQ(err("depends_on = [\"db\", \"dbb\"]"),
              "t.toml:5:21: service 'api' depends on unknown service 'dbb' (did you mean 'db'?)");
    EXPECT_EQ(err("depends_on = [\"cache\"]"),
              "t.toml:5:15: service 'api' depends on unknown service 'cache'");
    EXPECT_EQ(err("depends_on = [\"api\"]"),
              "t.toml:5:15: dependency cycle: api -> api (service 'api' depends on itself)");
}

TEST(ConfigErrors, Cycle) {
    EXPECT_EQ(error_of(R"([services.a]
command = "x"
depends_on = ["b"]
[services.b]
command = "x"
depends_on = ["c"]
[services.c]
command = "x"
depends_on = ["a"]
)"),
              "t.toml:3:15: dependency cycle: a -> b -> c -> a");
}

TEST(EditDistance, CountsSwapsAsOne) {
    EXPECT_EQ(edit_distance("stop_grace", "stop_grace"), 0u);
    EXPECT_EQ(edit_distance("stop_grase", "stop_grace"), 1u);
    EXPECT_EQ(edit_distance("stop_garce", "stop_grace"), 1u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

}  // namespace
}  // namespace sv

namespace sv {
namespace {

TEST(ConfigIds, OneRangeForIntegersAndStrings) {
    // A uid written as any string can never wrap round to 0 (root).
    for (const char* v : {"\"4294967295\"", "\"4294967296\"", "\"123456789012345678901\"",
                          "4294967295", "4294967296"}) {
        const std::string text = std::string("[services.a]\ncommand = \"x\"\nuser = ") + v + "\n";
        std::string value = v;
        if (value.front() == '"') value = value.substr(1, value.size() - 2);
        EXPECT_EQ(error_of(text),
                  "t.toml:3:8: user: " + value + " is out of range (0..4294967294)");
    }
    EXPECT_EQ(parse("[services.a]\ncommand = \"x\"\ngroup = \"4294967294\"\n").services[0].group,
              "4294967294");
    EXPECT_EQ(parse("[services.a]\ncommand = \"x\"\nuser = \"0\"\n").services[0].user, "0");
}

}  // namespace
}  // namespace sv
