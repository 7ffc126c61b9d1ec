// The configuration file as the OS layer reads it (os/config_file.h):
// missing, unreadable and misspelt files, and the example that users copy.
#include "config_file.h"

#include <gtest/gtest.h>

namespace sv {
namespace {

TEST(ConfigErrors, MissingFile) {
    try {
        load_config_file("/nonexistent/supervisor.toml");
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(),
                     "/nonexistent/supervisor.toml: cannot read: No such file or directory");
        EXPECT_EQ(e.pos().line, 0);
    }
    try {
        load_config_file(TEST_DATA_DIR);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  std::string(TEST_DATA_DIR) + ": cannot read: Is a directory");
    }
}

TEST(ConfigFile, LoadsAndNamesTheFile) {
    const std::string path = std::string(TEST_DATA_DIR) + "/bad_key.toml";
    try {
        load_config_file(path);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  path +
                      ":5:1: unknown key 'stop_grase' in [services.web] (did you mean "
                      "'stop_grace'?)");
    }
}

TEST(ConfigFile, ExampleLoadsFromDisk) {
    Config c = load_config_file(std::string(SOURCE_DIR) + "/supervisor.toml.example");
    EXPECT_EQ(c.services.size(), 4u);
    EXPECT_EQ(c.supervisor.health_listen, "127.0.0.1:9180");
}

}  // namespace
}  // namespace sv
