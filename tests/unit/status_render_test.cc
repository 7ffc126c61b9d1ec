// The pure renderers of status_render.h: /status JSON (SPEC §5), the
// Prometheus text, /readyz?verbose, the `supervisor status` table, and the
// JSON read back.
#include "status_render.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <sstream>
#include <string>
#include <vector>

namespace sv {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ServiceSnapshot service(std::string name, std::string state, pid_t pid, int restarts = 0) {
    ServiceSnapshot s;
    s.name = std::move(name);
    s.state = std::move(state);
    s.pid = pid;
    s.up = pid != 0;
    s.ready = s.state == "ready" || s.state == "completed";
    s.restarts = restarts;
    return s;
}

Snapshot sample() {
    Snapshot s;
    s.state = "running";
    s.uptime_seconds = 125.9;
    s.reaped_total = 7;
    ServiceSnapshot db = service("db", "ready", 42);
    db.since_seconds = 12.7;
    ServiceSnapshot api = service("api", "backoff", 0, 2);
    api.last_exit = ExitStatus::exited(3);
    api.since_seconds = 1.2;
    ServiceSnapshot worker = service("worker", "exited", 0, 1);
    worker.last_exit = ExitStatus::killed(SIGTERM);
    worker.since_seconds = 3725;
    s.services = {db, api, worker};
    return s;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

TEST(StatusJson, ExactlyAsSpecSection5) {
    EXPECT_EQ(
        render_status_json(sample()),
        "{\"state\": \"running\", \"uptime_seconds\": 125, \"services\": [\n"
        "  {\"name\": \"db\", \"state\": \"ready\", \"pid\": 42, \"ready\": true, "
        "\"restarts\": 0, \"last_exit\": null, \"since_seconds\": 12},\n"
        "  {\"name\": \"api\", \"state\": \"backoff\", \"pid\": null, \"ready\": false, "
        "\"restarts\": 2, \"last_exit\": {\"code\": 3}, \"since_seconds\": 1},\n"
        "  {\"name\": \"worker\", \"state\": \"exited\", \"pid\": null, \"ready\": false, "
        "\"restarts\": 1, \"last_exit\": {\"signal\": \"SIGTERM\"}, \"since_seconds\": 3725}\n"
        "]}\n");
}

TEST(StatusJson, NoServices) {
    Snapshot s;
    s.state = "starting";
    EXPECT_EQ(render_status_json(s),
              "{\"state\": \"starting\", \"uptime_seconds\": 0, \"services\": []}\n");
}

TEST(StatusJson, StatusTextAndReasonOnlyWhenSetAndEscaped) {
    Snapshot s = sample();
    s.services[0].status_text = "accepting \"connections\"\n";
    s.services[1].reason = "not ready within 60s";
    const std::string json = render_status_json(s);
    EXPECT_THAT(json, HasSubstr("\"status\": \"accepting \\\"connections\\\"\\n\""));
    EXPECT_THAT(json, HasSubstr("\"reason\": \"not ready within 60s\""));
    EXPECT_THAT(json, Not(HasSubstr("\"reason\": \"\"")));
}

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

TEST(Snapshot, AllReady) {
    Snapshot s;
    EXPECT_TRUE(s.all_ready());  // nothing to wait for
    s.services = {service("db", "ready", 1), service("migrate", "completed", 0)};
    EXPECT_TRUE(s.all_ready());
    s.services.push_back(service("api", "starting", 2));
    EXPECT_FALSE(s.all_ready());
    s.services.pop_back();
    s.shutting_down = true;
    EXPECT_FALSE(s.all_ready());
}

TEST(Metrics, FamiliesAndSamples) {
    Snapshot s = sample();
    s.services[1].up = false;
    const std::string text = render_metrics(s);
    const auto l = lines(text);
    auto has = [&](const std::string& line) {
        return std::find(l.begin(), l.end(), line) != l.end();
    };
    EXPECT_TRUE(has("# TYPE supervisor_service_up gauge"));
    EXPECT_TRUE(has("supervisor_service_up{service=\"db\"} 1"));
    EXPECT_TRUE(has("supervisor_service_up{service=\"api\"} 0"));
    EXPECT_TRUE(has("# TYPE supervisor_service_ready gauge"));
    EXPECT_TRUE(has("supervisor_service_ready{service=\"db\"} 1"));
    EXPECT_TRUE(has("supervisor_service_ready{service=\"worker\"} 0"));
    EXPECT_TRUE(has("# TYPE supervisor_service_restarts_total counter"));
    EXPECT_TRUE(has("supervisor_service_restarts_total{service=\"api\"} 2"));
    EXPECT_TRUE(has("supervisor_service_state{service=\"api\",state=\"backoff\"} 1"));
    EXPECT_TRUE(has("supervisor_service_state{service=\"api\",state=\"ready\"} 0"));
    EXPECT_TRUE(has("# TYPE supervisor_reaped_total counter"));
    EXPECT_TRUE(has("supervisor_reaped_total 7"));
    EXPECT_TRUE(has("# TYPE supervisor_shutting_down gauge"));
    EXPECT_TRUE(has("supervisor_shutting_down 0"));
    EXPECT_TRUE(has("supervisor_services 3"));
    EXPECT_TRUE(has("supervisor_ready 0"));
    EXPECT_TRUE(has("supervisor_uptime_seconds 125.900"));
    // Every family has its HELP and TYPE, and ends with a newline.
    for (const std::string& line : l) {
        if (line.rfind("# TYPE ", 0) != 0) continue;
        const std::string name = line.substr(7, line.find(' ', 7) - 7);
        EXPECT_THAT(text, HasSubstr("# HELP " + name + " ")) << name;
    }
    EXPECT_EQ(text.back(), '\n');
}

TEST(Metrics, LabelValuesEscaped) {
    Snapshot s;
    s.services = {service("we\"ird\\na\nme", "ready", 1)};
    EXPECT_THAT(render_metrics(s),
                HasSubstr("supervisor_service_up{service=\"we\\\"ird\\\\na\\nme\"} 1\n"));
}

TEST(ReadyVerbose, ListsEveryServiceThenTheVerdict) {
    Snapshot s;
    s.services = {service("db", "ready", 1), service("migrate", "completed", 0),
                  service("api", "starting", 2)};
    EXPECT_EQ(render_ready_verbose(s),
              "[+]db ok\n[+]migrate ok\n[-]api not ready: starting\nreadyz check failed\n");
    s.services.pop_back();
    EXPECT_EQ(render_ready_verbose(s, "healthz"),
              "[+]db ok\n[+]migrate ok\nhealthz check passed\n");
}

TEST(ReadyVerbose, ShuttingDownFailsEvenWhenAllReady) {
    Snapshot s;
    s.shutting_down = true;
    s.services = {service("db", "ready", 1)};
    EXPECT_EQ(render_ready_verbose(s),
              "[+]db ok\n[-]shutdown not ready: shutting down\nreadyz check failed\n");
}

TEST(StatusTable, AlignedColumnsWithDashesForNone) {
    Snapshot s = sample();
    s.services.push_back(service("long-service-name", "starting", 12345));
    s.services.back().since_seconds = 125;
    EXPECT_EQ(render_status_table(s),
              "NAME               STATE     PID    READY  RESTARTS  UPTIME  LAST EXIT\n"
              "db                 ready     42     yes    0         12s     -\n"
              "api                backoff   -      no     2         -       exit 3\n"
              "worker             exited    -      no     1         -       SIGTERM\n"
              "long-service-name  starting  12345  no     0         2m5s    -\n");
}

TEST(StatusTable, UptimeUnits) {
    Snapshot s;
    for (double secs : {0.4, 59.0, 3720.0, 90061.0}) {
        s.services.push_back(service("s", "ready", 1));
        s.services.back().since_seconds = secs;
    }
    const auto l = lines(render_status_table(s));
    ASSERT_EQ(l.size(), 5u);
    EXPECT_THAT(l[1], HasSubstr(" 0s "));
    EXPECT_THAT(l[2], HasSubstr(" 59s "));
    EXPECT_THAT(l[3], HasSubstr(" 1h2m "));
    EXPECT_THAT(l[4], HasSubstr(" 1d1h "));
}

}  // namespace
}  // namespace sv
