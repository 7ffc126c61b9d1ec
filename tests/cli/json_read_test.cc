// Reading /status back (cli/json_read.h): a round trip through the
// renderer, any valid JSON with unknown fields, and malformed input refused.
#include "json_read.h"

#include <gtest/gtest.h>

#include "snapshot_samples.h"
#include "status_render.h"

namespace sv {
namespace {

TEST(StatusJson, RoundTripsThroughTheParser) {
    Snapshot s = sample();
    s.uptime_seconds = 125;
    s.services[0].status_text = "ok \xc3\xa9 \"q\"";
    s.services[2].reason = "line\nbreak";
    auto back = parse_status_json(render_status_json(s));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->state, "running");
    EXPECT_EQ(back->uptime_seconds, 125);
    ASSERT_EQ(back->services.size(), 3u);
    EXPECT_EQ(back->services[0].name, "db");
    EXPECT_EQ(back->services[0].pid, 42);
    EXPECT_TRUE(back->services[0].ready);
    EXPECT_FALSE(back->services[0].last_exit.has_value());
    EXPECT_EQ(back->services[0].since_seconds, 12);
    EXPECT_EQ(back->services[0].status_text, "ok \xc3\xa9 \"q\"");
    EXPECT_EQ(back->services[1].pid, 0);
    EXPECT_EQ(back->services[1].restarts, 2);
    EXPECT_EQ(back->services[1].last_exit, ExitStatus::exited(3));
    EXPECT_EQ(back->services[2].last_exit, ExitStatus::killed(SIGTERM));
    EXPECT_EQ(back->services[2].reason, "line\nbreak");
    EXPECT_EQ(render_status_json(*back), render_status_json(s));
}

TEST(StatusJson, ParserAcceptsAnyValidJsonAndUnknownFields) {
    auto s = parse_status_json(
        R"( {"extra": [1, 2.5e3, {"x": [true, false, null]}], "state": "stopping",
            "services": [{"name": "a\u00e9\ud83d\ude00", "state": "stopping", "pid": 7,
            "ready": false, "restarts": 0, "last_exit": null, "since_seconds": 0.5,
            "future": {"nested": "yes"}}], "uptime_seconds": 3} )");
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->shutting_down);
    ASSERT_EQ(s->services.size(), 1u);
    EXPECT_EQ(s->services[0].name, "a\xc3\xa9\xf0\x9f\x98\x80");
    EXPECT_EQ(s->services[0].pid, 7);
}

TEST(StatusJson, ParserRejectsMalformedInput) {
    for (const char* bad : {
             "",
             "{",
             "[]",
             "null",
             "{\"state\": \"running\"}",
             "{\"state\": \"running\", \"services\": {}}",
             "{\"state\": \"running\", \"services\": [],}",
             "{\"state\": \"running\", \"services\": []} x",
             "{\"state\": 'running', \"services\": []}",
             "{\"state\": \"run\x01\", \"services\": []}",
             "{\"state\": \"running\", \"services\": [{\"state\": \"ready\"}]}",
             "{\"state\": \"running\", \"services\": [{\"name\": 3}]}",
             "{\"state\": \"running\", \"services\": [{\"name\": \"a\", \"pid\": 1e300}]}",
             "{\"state\": \"running\", \"services\": [{\"name\": \"a\", \"ready\": 1}]}",
             "{\"state\": \"running\", \"uptime_seconds\": +1, \"services\": []}",
             "{\"state\": \"\\ud800\", \"services\": []}",
         })
        EXPECT_FALSE(parse_status_json(bad).has_value()) << bad;
    EXPECT_FALSE(parse_status_json(std::string(100000, '[')).has_value());  // bounded depth
}

}  // namespace
}  // namespace sv
