// The compose `.env` format (core/env_file.h).
#include "env_file.h"

#include <gtest/gtest.h>

#include "config.h"

namespace sv {
namespace {

using Vars = std::vector<std::pair<std::string, std::string>>;

std::string error_of(std::string_view text) {
    try {
        parse_env_file(text, "app.env");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

TEST(EnvFile, TheComposeFormat) {
    const Vars vars = parse_env_file(
        "# a comment\n"
        "\n"
        "PLAIN=value\n"
        "  SPACED  =  padded value  \n"
        "export EXPORTED=yes\n"
        "EMPTY=\n"
        "SINGLE='it is # literal \\n'\n"
        "DOUBLE=\"line\\nnext \\\"q\\\" back\\\\slash\"\n"
        "COMMENTED=value # a comment\n"
        "HASH=a#b\n"
        "CRLF=dos\r\n",
        "app.env");
    EXPECT_EQ(vars, (Vars{{"PLAIN", "value"},
                          {"SPACED", "padded value"},
                          {"EXPORTED", "yes"},
                          {"EMPTY", ""},
                          {"SINGLE", "it is # literal \\n"},
                          {"DOUBLE", "line\nnext \"q\" back\\slash"},
                          {"COMMENTED", "value"},
                          {"HASH", "a#b"},
                          {"CRLF", "dos"}}));
}

TEST(EnvFile, BadLinesAreNamedWithTheirPosition) {
    EXPECT_EQ(error_of("A=1\nnot a line\n"), "app.env:2:5: expected '=' after 'not' (KEY=VALUE)");
    EXPECT_EQ(error_of("=value\n"), "app.env:1:1: expected KEY=VALUE");
    EXPECT_EQ(error_of("A='open\n"), "app.env:1:3: unterminated single quote");
    EXPECT_EQ(error_of("A=\"open\n"), "app.env:1:3: unterminated double quote");
    EXPECT_EQ(error_of("A=\"x\" y\n"), "app.env:1:7: unexpected text after the quoted value");
    EXPECT_EQ(error_of("ALONE\n"), "app.env:1:6: expected '=' after 'ALONE' (KEY=VALUE)");
}

}  // namespace
}  // namespace sv
