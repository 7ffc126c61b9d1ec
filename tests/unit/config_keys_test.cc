// The keys of the control socket, env files, process limits and the VM
// init (docs/configuration.md): defaults, values, and their errors.
#include <gtest/gtest.h>

#include "config.h"

namespace sv {
namespace {

std::string error_of(std::string_view text) {
    try {
        parse_config(text, "t.toml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

const char* kService = "[services.a]\ncommand = \"x\"\n";

TEST(ConfigKeys, ControlDefaults) {
    const Config c = parse_config(kService, "t.toml");
    EXPECT_EQ(c.supervisor.control_socket, "auto");
    EXPECT_EQ(c.supervisor.control_group, "");
    EXPECT_EQ(c.supervisor.sighup, SighupAction::Forward);
    EXPECT_EQ(c.supervisor.hostname, "");
}

TEST(ConfigKeys, ControlValues) {
    const Config c = parse_config(
        std::string("[supervisor]\ncontrol_socket = \"/run/app.sock\"\ncontrol_group = \"wheel\"\n"
                    "sighup = \"reload\"\nhostname = \"vm1\"\n") +
            kService,
        "t.toml");
    EXPECT_EQ(c.supervisor.control_socket, "/run/app.sock");
    EXPECT_EQ(c.supervisor.control_group, "wheel");
    EXPECT_EQ(c.supervisor.sighup, SighupAction::Reload);
    EXPECT_EQ(c.supervisor.hostname, "vm1");
    EXPECT_EQ(
        parse_config(std::string("[supervisor]\ncontrol_socket = \"\"\n") + kService, "t.toml")
            .supervisor.control_socket,
        "");
}

TEST(ConfigKeys, ControlErrors) {
    EXPECT_EQ(error_of(std::string("[supervisor]\ncontrol_socket = \"run/x.sock\"\n") + kService),
              "t.toml:2:18: control_socket: expected \"auto\", \"\" or an absolute path, got "
              "'run/x.sock'");
    EXPECT_EQ(error_of(std::string("[supervisor]\nsighup = \"relaod\"\n") + kService),
              "t.toml:2:10: sighup: unknown value 'relaod' (expected forward or reload; did you "
              "mean 'reload'?)");
    EXPECT_EQ(error_of(std::string("[supervisor]\ncontrol_group = \"4294967295\"\n") + kService),
              "t.toml:2:17: control_group: 4294967295 is out of range (0..4294967294)");
}

TEST(ConfigKeys, EnvFilesAreResolvedAgainstTheConfigFolder) {
    const Config c = parse_config(
        "[supervisor]\nenv_file = \"common.env\"\n[services.a]\ncommand = \"x\"\n"
        "env_file = [\"/etc/a.env\", \"local/a.env\"]\n",
        "/etc/app/supervisor.toml");
    ASSERT_EQ(c.supervisor.env_files.size(), 1u);
    EXPECT_EQ(c.supervisor.env_files[0].path, "/etc/app/common.env");
    ASSERT_EQ(c.services[0].env_files.size(), 2u);
    EXPECT_EQ(c.services[0].env_files[0].path, "/etc/a.env");
    EXPECT_EQ(c.services[0].env_files[1].path, "/etc/app/local/a.env");
    EXPECT_EQ(c.services[0].env_files[1].pos.line, 5);
    EXPECT_EQ(error_of(std::string(kService) + "env_file = 3\n"),
              "t.toml:3:12: env_file: expected a path or an array of paths, got an integer");
}

TEST(ConfigKeys, Umask) {
    EXPECT_EQ(parse_config(std::string(kService) + "umask = \"022\"\n", "t.toml").services[0].umask,
              022u);
    EXPECT_EQ(parse_config(std::string(kService) + "umask = 0o077\n", "t.toml").services[0].umask,
              077u);
    EXPECT_FALSE(parse_config(kService, "t.toml").services[0].umask.has_value());
    EXPECT_EQ(error_of(std::string(kService) + "umask = \"0999\"\n"),
              "t.toml:3:9: umask: expected an octal mask such as \"022\" (0 to 777), got '0999'");
}

TEST(ConfigKeys, Limits) {
    const Config c = parse_config(std::string(kService) +
                                      "limits = { nofile = 65536, core = 0, memlock = "
                                      "\"unlimited\", nproc = [1024, 4096] }\n",
                                  "t.toml");
    const auto& l = c.services[0].limits;
    ASSERT_EQ(l.size(), 4u);
    EXPECT_EQ(l[0], (Limit{Resource::Nofile, 65536, 65536}));
    EXPECT_EQ(l[1], (Limit{Resource::Core, 0, 0}));
    EXPECT_EQ(l[2], (Limit{Resource::Memlock, kUnlimited, kUnlimited}));
    EXPECT_EQ(l[3], (Limit{Resource::Nproc, 1024, 4096}));
}

TEST(ConfigKeys, LimitErrors) {
    EXPECT_EQ(
        error_of(std::string(kService) + "limits = { nofiles = 1 }\n"),
        "t.toml:3:12: limits: unknown limit 'nofiles' (did you mean 'nofile'?) (the setrlimit "
        "names without RLIMIT_: nofile, core, nproc, memlock, …)");
    EXPECT_EQ(error_of(std::string(kService) + "limits = { nofile = [10, 5] }\n"),
              "t.toml:3:21: limits.nofile: the soft limit 10 is above the hard one 5");
    EXPECT_EQ(error_of(std::string(kService) + "limits = { core = \"lots\" }\n"),
              "t.toml:3:19: limits.core: expected a number or \"unlimited\", got 'lots'");
    EXPECT_EQ(error_of(std::string(kService) + "limits = { core = -1 }\n"),
              "t.toml:3:19: limits.core: -1 is out of range (0..9223372036854775807)");
}

TEST(ConfigKeys, SameDefinitionIgnoresPositions) {
    const Config a = parse_config("[services.a]\ncommand = \"x\"\n", "t.toml");
    const Config b = parse_config("\n\n[services.a]\n  command = \"x\"\n", "t.toml");
    EXPECT_TRUE(same_definition(a.services[0], b.services[0]));
    const Config c = parse_config("[services.a]\ncommand = \"y\"\n", "t.toml");
    EXPECT_FALSE(same_definition(a.services[0], c.services[0]));
}

}  // namespace
}  // namespace sv
