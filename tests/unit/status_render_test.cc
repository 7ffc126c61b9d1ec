// The pure renderers of status_render.h: /status JSON (docs/health.md), the
// Prometheus text, /readyz?verbose and the `supervisor status` table.
#include "status_render.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <sstream>
#include <string>
#include <vector>

#include "snapshot_samples.h"

namespace sv {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

TEST(StatusJson, ExactlyAsDocumented) {
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
