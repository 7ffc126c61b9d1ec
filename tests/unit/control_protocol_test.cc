// The control protocol (core/control_protocol.h): strict requests, replies
// both ways.
#include "control_protocol.h"

#include <gtest/gtest.h>

namespace sv {
namespace {

std::string error_of(std::string_view line) {
    std::string error;
    EXPECT_FALSE(parse_control_request(line, error).has_value()) << line;
    return error;
}

TEST(ControlRequest, ParsesVerbOptionsAndOperands) {
    std::string error;
    auto r = parse_control_request("SUPERVISOR/1 restart wait=no timeout=30s api web", error);
    ASSERT_TRUE(r) << error;
    EXPECT_EQ(r->verb, ControlVerb::Restart);
    EXPECT_EQ(r->operands, (std::vector<std::string>{"api", "web"}));
    EXPECT_EQ(r->options.at("wait"), "no");
    EXPECT_EQ(r->options.at("timeout"), "30s");
    // And back: line() is what the client sends.
    auto again = parse_control_request(r->line().substr(0, r->line().size() - 1), error);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->operands, r->operands);
    EXPECT_EQ(again->options, r->options);
}

TEST(ControlRequest, EveryVerb) {
    std::string error;
    for (const char* line :
         {"SUPERVISOR/1 status", "SUPERVISOR/1 status api", "SUPERVISOR/1 start a",
          "SUPERVISOR/1 stop a b", "SUPERVISOR/1 signal HUP a", "SUPERVISOR/1 reload",
          "SUPERVISOR/1 logs follow=yes lines=10 a", "SUPERVISOR/1 wait timeout=5s",
          "SUPERVISOR/1 shutdown"})
        EXPECT_TRUE(parse_control_request(line, error)) << line << ": " << error;
}

TEST(ControlRequest, RefusesWhatIsNotExactlyRight) {
    EXPECT_EQ(error_of(""), "empty request");
    EXPECT_EQ(error_of("SUPERVISOR/2 status"),
              "unsupported protocol 'SUPERVISOR/2' (this is SUPERVISOR/1)");
    EXPECT_EQ(error_of("GET / HTTP/1.1"), "not a control request (it starts with SUPERVISOR/1)");
    EXPECT_EQ(error_of("SUPERVISOR/1"), "no verb in the request");
    EXPECT_EQ(error_of("SUPERVISOR/1 strat api"), "unknown verb 'strat' (did you mean 'start'?)");
    EXPECT_EQ(error_of("SUPERVISOR/1  status"),
              "malformed request (words are printable ASCII separated by single spaces)");
    EXPECT_EQ(error_of("SUPERVISOR/1 status "),
              "malformed request (words are printable ASCII separated by single spaces)");
    EXPECT_EQ(error_of("SUPERVISOR/1 status\tapi"),
              "malformed request (words are printable ASCII separated by single spaces)");
    EXPECT_EQ(error_of("SUPERVISOR/1 start"), "'start' needs at least one service name");
    EXPECT_EQ(error_of("SUPERVISOR/1 signal HUP"),
              "'signal' needs a signal and at least one service name");
    EXPECT_EQ(error_of("SUPERVISOR/1 reload now"), "'reload' takes no operand");
    EXPECT_EQ(error_of("SUPERVISOR/1 start wiat=no a"),
              "'start' takes no option 'wiat' (did you mean 'wait'?)");
    EXPECT_EQ(error_of("SUPERVISOR/1 start wait=maybe a"),
              "option 'wait' is yes or no, not 'maybe'");
    EXPECT_EQ(error_of("SUPERVISOR/1 start wait=no wait=yes a"), "option 'wait' given twice");
    EXPECT_EQ(error_of("SUPERVISOR/1 start =x a"), "malformed option '=x'");
    EXPECT_EQ(error_of(std::string("SUPERVISOR/1 status ") + std::string(70000, 'a')),
              "request too long (at most 64 KiB)");
}

TEST(ControlReply, FormatAndParseEachKind) {
    EXPECT_EQ(format_reply({ReplyKind::Data, 0, "api | hello"}), ". api | hello");
    EXPECT_EQ(format_reply({ReplyKind::Message, 0, "api: not ready"}), "! api: not ready");
    EXPECT_EQ(format_reply({ReplyKind::End, 1, "failed"}), "= 1 failed");
    auto end = parse_reply("= 2 unknown service 'x'");
    ASSERT_TRUE(end);
    EXPECT_EQ(end->kind, ReplyKind::End);
    EXPECT_EQ(end->code, 2);
    EXPECT_EQ(end->text, "unknown service 'x'");
    auto bare = parse_reply("= 0 ");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->text, "");
    for (const char* bad : {"", ".", "x hello", "= 7 no", "= 12 x", "=0"})
        EXPECT_FALSE(parse_reply(bad).has_value()) << bad;
}

}  // namespace
}  // namespace sv
