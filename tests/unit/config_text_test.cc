// The raw text of a configuration file before toml++ (core/toml_text.h):
// control characters, non-ASCII characters where TOML allows none, and
// messages that stay on one line. The inputs that reach toml++'s undefined
// behaviour were found by fuzz/config_fuzz.cc; here they must give errors.
#include <gtest/gtest.h>

#include <string>

#include "config.h"
#include "toml_text.h"

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

TEST(ConfigText, ControlCharactersAreRefusedWithTheirPosition) {
    EXPECT_EQ(error_of(std::string("[services.a]\ncommand = \"x\"\n# a\0b\n", 32)),
              "t.toml:3:4: control character U+0000 is not allowed in TOML (is this a text file?)");
    EXPECT_EQ(
        error_of("[services.a]\ncommand = \"x\x01\"\n"),
        "t.toml:2:13: control character U+0001 is not allowed in TOML (is this a text file?)");
    // Tab and the line ends (LF, CR LF) are fine.
    EXPECT_EQ(error_of("[services.a]\r\n\tcommand = \"x\"\r\n"), "no error");
}

TEST(ConfigText, NonAsciiInStringsAndCommentsIsFine) {
    const std::string text = std::string(kService) +
                             "env = { GREETING = \"café ж 日本\", 'лит' = 'é' }\n"
                             "# un commentaire accentué: é à ж\n"
                             "workdir = \"\"\"/srv/é\\\n   x ж\"\"\"\n";
    EXPECT_EQ(error_of(text), "no error");
    const Config c = parse_config(text, "t.toml");
    ASSERT_EQ(c.services[0].env.size(), 2u);
    EXPECT_EQ(c.services[0].env[0].second, "café ж 日本");
}

TEST(ConfigText, NonAsciiOutsideAStringIsNamed) {
    // These are the characters toml++ 3.3 cannot test for whitespace.
    EXPECT_EQ(error_of(std::string(kService) + "user = ж\n"),
              "t.toml:3:8: the character U+0436 is not allowed here (non-ASCII characters belong "
              "in quoted strings and comments)");
    // Not a string: the quote after a number (toml++ says so, safely).
    EXPECT_EQ(error_of("l=0\"\xef\xbb\xb7"),
              "t.toml:1:4: Error while parsing decimal integer: expected digit, saw '\"'");
    EXPECT_NE(error_of("[\xc3\xa9]\n"), "no error");
}

TEST(ConfigText, NonAsciiAfterABackslashIsRefused) {
    // No escape starts with a non-ASCII character.
    EXPECT_EQ(error_of("a = \"\"\"\\\xef\xbb\xb7\"\"\""),
              "t.toml:1:9: the character U+FEF7 is not allowed here (non-ASCII characters belong "
              "in quoted strings and comments)");
    EXPECT_EQ(error_of("a = \"\"\"x\\\n   \xd2\x94\"\"\""),
              "t.toml:2:4: the character U+0494 cannot follow a backslash in a string");
    EXPECT_NE(error_of("a = \"\\\xd2\x94\""), "no error");
    // An escaped backslash is no line-ending backslash.
    EXPECT_EQ(error_of(std::string(kService) + "workdir = \"\"\"a\\\\\nж\"\"\"\n"), "no error");
}

TEST(ConfigText, MessagesStayOnOneLine) {
    // toml++ quotes what it saw, newline included; so do our own messages.
    const std::string a = error_of("[services.a]\ncommand = \"x\"\ncritical = fa\n");
    EXPECT_EQ(a.find('\n'), std::string::npos) << a;
    const std::string b = error_of(std::string(kService) + "stop_grace = \"1\\n2\"\n");
    EXPECT_EQ(b,
              "t.toml:3:14: stop_grace: invalid duration '1\\n2' (use e.g. \"250ms\", \"5s\", "
              "\"1m30s\")");
}

TEST(ConfigText, MaskKeepsColumns) {
    EXPECT_EQ(mask_non_ascii("é = \"ж日\""), "? = \"??\"");
    EXPECT_EQ(non_ascii_at("a\né = 1", 2, 1), "U+00E9");
    EXPECT_EQ(non_ascii_at("a\né = 1", 2, 2), "");
}

}  // namespace
}  // namespace sv
