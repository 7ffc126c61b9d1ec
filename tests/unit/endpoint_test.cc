// The health endpoint's answers (core/endpoint.h) as a pure function of the
// request and a fake StatusSource: every route, its status, content type
// and body, the fast path of /readyz, and the answers to refused heads.
#include "endpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "http_parse.h"
#include "snapshot_samples.h"

namespace sv {
namespace {

using ::testing::HasSubstr;

// A StatusSource over a fixed snapshot that counts how often the full
// snapshot was built (the fast path of /readyz must not build one).
class FakeSource : public StatusSource {
  public:
    explicit FakeSource(Snapshot s) : snap_(std::move(s)) {}
    Snapshot snapshot() override {
        ++snapshots;
        return snap_;
    }
    bool all_ready() override {
        ++all_ready_calls;
        return snap_.all_ready();  // must agree with the snapshot
    }
    int snapshots = 0;
    int all_ready_calls = 0;

  private:
    Snapshot snap_;
};

Snapshot all_ready_snapshot() {
    Snapshot s;
    s.state = "running";
    s.services = {service("db", "ready", 42), service("migrate", "completed", 0)};
    return s;
}

Snapshot api_starting_snapshot() {
    Snapshot s = all_ready_snapshot();
    s.state = "starting";
    s.services.push_back(service("api", "starting", 43));
    return s;
}

Snapshot shutting_down_snapshot() {
    Snapshot s = all_ready_snapshot();
    s.state = "stopping";
    s.shutting_down = true;
    return s;
}

// A request as the server hands it over, through the real parser.
HttpRequest request(const std::string& method, const std::string& target) {
    HttpRequest r;
    const std::string head = method + " " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
    EXPECT_EQ(parse_request(head, r), ParseStatus::Complete) << head;
    return r;
}

HttpAnswer get(const std::string& target, StatusSource& source) {
    return answer_request(request("GET", target), source);
}

constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";

TEST(Endpoint, LivezIsAlwaysOk) {
    FakeSource src(shutting_down_snapshot());
    const HttpAnswer a = get("/livez", src);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "ok\n");
    EXPECT_EQ(a.content_type, kTextPlain);
    EXPECT_EQ(src.snapshots, 0);
}

TEST(Endpoint, ReadyzFastPathBuildsNoSnapshot) {
    // Probes hit /readyz every few seconds: one boolean, no snapshot.
    FakeSource src(all_ready_snapshot());
    const HttpAnswer a = get("/readyz", src);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "ok\n");
    EXPECT_EQ(a.content_type, kTextPlain);
    EXPECT_EQ(src.all_ready_calls, 1);
    EXPECT_EQ(src.snapshots, 0);
}

TEST(Endpoint, ReadyzNotReadyListsEveryCheck) {
    // A failure explains itself without ?verbose, as the apiserver does.
    FakeSource src(api_starting_snapshot());
    const HttpAnswer a = get("/readyz", src);
    EXPECT_EQ(a.status, 503);
    EXPECT_EQ(a.content_type, kTextPlain);
    EXPECT_EQ(a.body, "[+]db ok\n[+]migrate ok\n[-]api not ready: starting\nreadyz check failed\n");
}

TEST(Endpoint, ReadyzVerboseListsEveryServiceWhenReady) {
    FakeSource src(all_ready_snapshot());
    const HttpAnswer a = get("/readyz?verbose", src);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "[+]db ok\n[+]migrate ok\nreadyz check passed\n");
    EXPECT_EQ(src.snapshots, 1);
}

TEST(Endpoint, ReadyzWhileShuttingDown) {
    FakeSource src(shutting_down_snapshot());
    const HttpAnswer a = get("/readyz", src);
    EXPECT_EQ(a.status, 503);
    EXPECT_THAT(a.body, HasSubstr("[-]shutdown not ready: shutting down\n"));
    EXPECT_THAT(a.body, HasSubstr("readyz check failed\n"));
}

TEST(Endpoint, HealthzIsReadyzUnderItsOwnName) {
    FakeSource ready(all_ready_snapshot());
    HttpAnswer a = get("/healthz", ready);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "ok\n");
    a = get("/healthz?verbose", ready);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "[+]db ok\n[+]migrate ok\nhealthz check passed\n");

    FakeSource starting(api_starting_snapshot());
    a = get("/healthz", starting);
    EXPECT_EQ(a.status, 503);
    EXPECT_EQ(a.body,
              "[+]db ok\n[+]migrate ok\n[-]api not ready: starting\nhealthz check failed\n");
}

TEST(Endpoint, ReadyzOneService) {
    FakeSource src(api_starting_snapshot());
    HttpAnswer a = get("/readyz/db", src);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "ok\n");
    a = get("/readyz/migrate", src);  // a completed oneshot counts as ready
    EXPECT_EQ(a.status, 200);
    a = get("/readyz/api", src);
    EXPECT_EQ(a.status, 503);
    EXPECT_EQ(a.body, "[-]api not ready: starting\n");
    a = get("/healthz/api", src);
    EXPECT_EQ(a.status, 503);
}

TEST(Endpoint, ReadyzUnknownServiceIs404) {
    FakeSource src(all_ready_snapshot());
    HttpAnswer a = get("/readyz/nosuch", src);
    EXPECT_EQ(a.status, 404);
    EXPECT_EQ(a.body, "no such service\n");
    EXPECT_EQ(get("/readyz/", src).status, 404);
    EXPECT_EQ(get("/readyz/d", src).status, 404);  // no prefix match
}

TEST(Endpoint, ReadyzOneServiceWhileShuttingDown) {
    // A load balancer probing one service drains it along with the rest.
    FakeSource src(shutting_down_snapshot());
    const HttpAnswer a = get("/readyz/db", src);
    EXPECT_EQ(a.status, 503);
    EXPECT_EQ(a.body, "[-]db not ready: shutting down\n");
}

TEST(Endpoint, StatusIsJson) {
    FakeSource src(sample());
    const HttpAnswer a = get("/status", src);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.content_type, "application/json");
    EXPECT_THAT(a.body, HasSubstr("\"name\": \"db\""));
    EXPECT_EQ(src.snapshots, 1);
}

TEST(Endpoint, MetricsIsPrometheusText) {
    FakeSource src(sample());
    const HttpAnswer a = get("/metrics", src);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_THAT(a.body, HasSubstr("supervisor_service_up{service=\"db\"} 1"));
}

TEST(Endpoint, UnknownPathIs404) {
    FakeSource src(all_ready_snapshot());
    for (const char* target : {"/", "/nope", "/readyzz", "/livez/x", "/status/db", "/STATUS"}) {
        const HttpAnswer a = get(target, src);
        EXPECT_EQ(a.status, 404) << target;
        EXPECT_EQ(a.body, "not found\n") << target;
    }
}

TEST(Endpoint, HeadIsAnsweredLikeGet) {
    // The server drops the body; the status and headers are the same.
    FakeSource src(api_starting_snapshot());
    EXPECT_EQ(answer_request(request("HEAD", "/readyz"), src).status, 503);
    EXPECT_EQ(answer_request(request("HEAD", "/livez"), src).status, 200);
}

TEST(Endpoint, OtherMethodsAre405WithAllow) {
    FakeSource src(all_ready_snapshot());
    for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
        const HttpAnswer a = answer_request(request(method, "/readyz"), src);
        EXPECT_EQ(a.status, 405) << method;
        EXPECT_EQ(a.extra_headers, "Allow: GET, HEAD\r\n") << method;
        EXPECT_EQ(a.body, "method not allowed\n");
    }
    EXPECT_EQ(src.snapshots + src.all_ready_calls, 0);  // read-only: nothing consulted
}

TEST(EndpointParseError, TooLargeIs431) {
    const HttpAnswer a = answer_parse_error(ParseStatus::TooLarge, HttpRequest{});
    EXPECT_EQ(a.status, 431);
    EXPECT_EQ(a.body, "request header fields too large\n");
}

TEST(EndpointParseError, BadIs400) {
    HttpRequest r;
    ASSERT_EQ(parse_request("GET /readyz HTTX/1.1\r\n\r\n", r), ParseStatus::Bad);
    const HttpAnswer a = answer_parse_error(ParseStatus::Bad, r);
    EXPECT_EQ(a.status, 400);
    EXPECT_EQ(a.body, "bad request\n");
    EXPECT_EQ(a.extra_headers, "");
}

TEST(EndpointParseError, PostWithABodyIs405) {
    // The parser refuses bodies, but a POST deserves "method not allowed",
    // not "bad request".
    HttpRequest r;
    ASSERT_EQ(parse_request("POST /readyz HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", r),
              ParseStatus::Bad);
    ASSERT_TRUE(r.has_body);
    const HttpAnswer a = answer_parse_error(ParseStatus::Bad, r);
    EXPECT_EQ(a.status, 405);
    EXPECT_EQ(a.extra_headers, "Allow: GET, HEAD\r\n");
}

TEST(EndpointParseError, GetWithABodyIs400) {
    HttpRequest r;
    ASSERT_EQ(parse_request("GET /readyz HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", r),
              ParseStatus::Bad);
    ASSERT_TRUE(r.has_body);
    EXPECT_EQ(answer_parse_error(ParseStatus::Bad, r).status, 400);
}

TEST(Endpoint, ReasonPhrases) {
    const std::vector<std::pair<int, std::string>> phrases = {
        {200, "OK"},
        {400, "Bad Request"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {503, "Service Unavailable"},
        {418, "Unknown"},
    };
    for (const auto& [status, phrase] : phrases) EXPECT_EQ(reason_phrase(status), phrase) << status;
    EXPECT_EQ(answer_internal_error().status, 500);
}

TEST(QueryFlag, OnAndOff) {
    EXPECT_TRUE(query_flag("verbose", "verbose"));
    EXPECT_TRUE(query_flag("verbose=1", "verbose"));
    EXPECT_TRUE(query_flag("verbose=true", "verbose"));
    EXPECT_TRUE(query_flag("a&verbose", "verbose"));
    EXPECT_TRUE(query_flag("a=1&verbose&b=2", "verbose"));
    EXPECT_FALSE(query_flag("verbose=0", "verbose"));
    EXPECT_FALSE(query_flag("verbose=false", "verbose"));
    EXPECT_FALSE(query_flag("a&verbose=0", "verbose"));
}

TEST(QueryFlag, Absent) {
    EXPECT_FALSE(query_flag("", "verbose"));
    EXPECT_FALSE(query_flag("a=1", "verbose"));
    EXPECT_FALSE(query_flag("verbosity", "verbose"));  // whole names only
    EXPECT_FALSE(query_flag("xverbose=1", "verbose"));
    EXPECT_FALSE(query_flag("a=verbose", "verbose"));
}

TEST(Endpoint, VerboseOffIsTheFastPath) {
    FakeSource src(all_ready_snapshot());
    const HttpAnswer a = get("/readyz?verbose=0", src);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "ok\n");
    EXPECT_EQ(src.snapshots, 0);
}

}  // namespace
}  // namespace sv
