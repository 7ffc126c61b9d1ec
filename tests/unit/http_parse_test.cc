// The request-head parser of the health endpoint: complete, incremental,
// pipelined, bounded and strict (http_parse.h).
#include "http_parse.h"

#include <gtest/gtest.h>

#include <string>

namespace sv {
namespace {

ParseStatus parse(std::string_view data, HttpRequest& r, std::size_t max = kMaxRequestHead) {
    return parse_request(data, r, max);
}

ParseStatus parse(std::string_view data) {
    HttpRequest r;
    return parse_request(data, r);
}

TEST(HttpParse, CompleteGet) {
    HttpRequest r;
    const std::string head = "GET /readyz?verbose HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n";
    ASSERT_EQ(parse(head, r), ParseStatus::Complete);
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/readyz?verbose");
    EXPECT_EQ(r.path, "/readyz");
    EXPECT_EQ(r.query, "verbose");
    EXPECT_EQ(r.version_minor, 1);
    EXPECT_TRUE(r.keep_alive);
    EXPECT_EQ(r.head_length, head.size());
    EXPECT_FALSE(r.has_body);
}

TEST(HttpParse, NoHeadersAtAll) {
    HttpRequest r;
    ASSERT_EQ(parse("HEAD /livez HTTP/1.1\r\n\r\n", r), ParseStatus::Complete);
    EXPECT_EQ(r.method, "HEAD");
    EXPECT_EQ(r.path, "/livez");
    EXPECT_EQ(r.query, "");
}

TEST(HttpParse, ByteByByteIsIncompleteUntilTheEnd) {
    const std::string head = "GET /status HTTP/1.1\r\nHost: localhost:9180\r\nAccept: */*\r\n\r\n";
    HttpRequest r;
    for (std::size_t i = 0; i < head.size(); ++i)
        ASSERT_EQ(parse(std::string_view(head).substr(0, i), r), ParseStatus::Incomplete) << i;
    ASSERT_EQ(parse(head, r), ParseStatus::Complete);
    EXPECT_EQ(r.path, "/status");
    EXPECT_EQ(r.head_length, head.size());
}

TEST(HttpParse, PipelinedRequestsOneAfterAnother) {
    const std::string data =
        "GET /livez HTTP/1.1\r\n\r\nGET /readyz HTTP/1.1\r\nHost: a\r\n\r\nHEAD /stat";
    HttpRequest r;
    std::string_view rest = data;
    ASSERT_EQ(parse(rest, r), ParseStatus::Complete);
    EXPECT_EQ(r.path, "/livez");
    rest.remove_prefix(r.head_length);
    ASSERT_EQ(parse(rest, r), ParseStatus::Complete);
    EXPECT_EQ(r.path, "/readyz");
    rest.remove_prefix(r.head_length);
    EXPECT_EQ(rest, "HEAD /stat");
    EXPECT_EQ(parse(rest, r), ParseStatus::Incomplete);
}

TEST(HttpParse, BareLineFeedsAccepted) {
    HttpRequest r;
    ASSERT_EQ(parse("GET /livez HTTP/1.0\nHost: x\n\n", r), ParseStatus::Complete);
    EXPECT_EQ(r.path, "/livez");
    EXPECT_EQ(r.head_length, 29u);
}

TEST(HttpParse, LeadingEmptyLinesSkipped) {
    HttpRequest r;
    ASSERT_EQ(parse("\r\n\r\nGET /livez HTTP/1.1\r\n\r\n", r), ParseStatus::Complete);
    EXPECT_EQ(r.path, "/livez");
}

TEST(HttpParse, HeadOverTheLimitIsTooLarge) {
    std::string head = "GET /livez HTTP/1.1\r\n";
    while (head.size() <= kMaxRequestHead) head += "X-Filler: " + std::string(100, 'a') + "\r\n";
    EXPECT_EQ(parse(head), ParseStatus::TooLarge);
    // Even when the end of the head comes later.
    EXPECT_EQ(parse(head + "\r\n"), ParseStatus::TooLarge);
}

TEST(HttpParse, HeadOfExactlyTheLimitIsComplete) {
    HttpRequest r;
    std::string head = "GET /livez HTTP/1.1\r\nX: ";
    head += std::string(kMaxRequestHead - head.size() - 4, 'a');
    head += "\r\n\r\n";
    ASSERT_EQ(head.size(), kMaxRequestHead);
    EXPECT_EQ(parse(head, r), ParseStatus::Complete);
    // One byte more is too much.
    head.insert(25, "a");
    EXPECT_EQ(parse(head, r), ParseStatus::TooLarge);
}

TEST(HttpParse, UnfinishedHeadAtTheLimitIsTooLarge) {
    HttpRequest r;
    EXPECT_EQ(parse("GET /livez HTTP/1.1\r\nX: aaaa", r, 20), ParseStatus::TooLarge);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nX: a", r, 64), ParseStatus::Incomplete);
    EXPECT_EQ(parse(std::string(63, '\n'), r, 64), ParseStatus::Incomplete);
    EXPECT_EQ(parse(std::string(64, '\n'), r, 64), ParseStatus::TooLarge);
}

TEST(HttpParse, BadRequestLines) {
    for (const char* bad : {
             "GET /livez HTTP/1.2\r\n\r\n",
             "GET /livez HTTP/2.0\r\n\r\n",
             "GET /livez http/1.1\r\n\r\n",
             "GET livez HTTP/1.1\r\n\r\n",
             "GET  /livez HTTP/1.1\r\n\r\n",
             "GET /livez  HTTP/1.1\r\n\r\n",
             "GET /livez\r\n\r\n",
             "GET\r\n\r\n",
             " GET /livez HTTP/1.1\r\n\r\n",
             "GET /li vez HTTP/1.1\r\n\r\n",
             "GET /livez HTTP/1.1 \r\n\r\n",
             "G(T /livez HTTP/1.1\r\n\r\n",
             "GET http://h/livez HTTP/1.1\r\n\r\n",
             "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
             "GET /\x7f HTTP/1.1\r\n\r\n",
             "GET /livez HTTP/1.1\rX\n\r\n",
         })
        EXPECT_EQ(parse(bad), ParseStatus::Bad) << bad;
}

TEST(HttpParse, GarbageIsRejectedBeforeTheLineEnds) {
    EXPECT_EQ(parse("\x16\x03\x01\x02\x00"), ParseStatus::Bad);  // a TLS ClientHello
    EXPECT_EQ(parse("GET /livez HTTP/3"), ParseStatus::Bad);
    EXPECT_EQ(parse("GET /livez HTTP/1."), ParseStatus::Incomplete);
    EXPECT_EQ(parse("GET /livez HTTP/1.1\r"), ParseStatus::Incomplete);
}

TEST(HttpParse, BadHeaderLines) {
    for (const char* bad : {
             "GET / HTTP/1.1\r\nHost : x\r\n\r\n",      // space before the colon
             "GET / HTTP/1.1\r\nNoColon\r\n\r\n",       //
             "GET / HTTP/1.1\r\n: empty-name\r\n\r\n",  //
             "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",     // control character
             "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",       // bare CR
             "GET / HTTP/1.1\r\nX\x7fY: a\r\n\r\n",     //
         })
        EXPECT_EQ(parse(bad), ParseStatus::Bad) << bad;
}

TEST(HttpParse, HeaderFoldingRejected) {
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n"), ParseStatus::Bad);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n"), ParseStatus::Bad);
}

TEST(HttpParse, ValuesMayHoldTabsAndHighBytes) {
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nX: a\tb \xc3\xa9\r\nY:\r\n\r\n"), ParseStatus::Complete);
}

TEST(HttpParse, LowercaseMethodIsATokenTheServerRefuses) {
    // Methods are case-sensitive tokens (RFC 9110 §9.1): "get" parses, and
    // the server answers it 405 like any method other than GET and HEAD.
    HttpRequest r;
    ASSERT_EQ(parse("get /livez HTTP/1.1\r\n\r\n", r), ParseStatus::Complete);
    EXPECT_EQ(r.method, "get");
}

TEST(HttpParse, Http11KeepAliveRules) {
    HttpRequest r;
    ASSERT_EQ(parse("GET / HTTP/1.1\r\n\r\n", r), ParseStatus::Complete);
    EXPECT_TRUE(r.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", r), ParseStatus::Complete);
    EXPECT_FALSE(r.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n", r),
              ParseStatus::Complete);
    EXPECT_FALSE(r.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", r), ParseStatus::Complete);
    EXPECT_TRUE(r.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", r), ParseStatus::Complete);
    EXPECT_TRUE(r.keep_alive);
}

TEST(HttpParse, Http10ClosesUnlessKeepAlive) {
    HttpRequest r;
    ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", r), ParseStatus::Complete);
    EXPECT_EQ(r.version_minor, 0);
    EXPECT_FALSE(r.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", r), ParseStatus::Complete);
    EXPECT_TRUE(r.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", r),
              ParseStatus::Complete);
    EXPECT_FALSE(r.keep_alive);
}

TEST(HttpParse, BodiesAreRefused) {
    HttpRequest r;
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", r), ParseStatus::Complete);
    EXPECT_FALSE(r.has_body);
    ASSERT_EQ(parse("POST /livez HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", r), ParseStatus::Bad);
    EXPECT_TRUE(r.has_body);
    EXPECT_EQ(r.method, "POST");  // so the server can still answer 405
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), ParseStatus::Bad);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", r), ParseStatus::Bad);
    EXPECT_FALSE(r.has_body);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nContent-Length: \r\n\r\n"), ParseStatus::Bad);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"), ParseStatus::Bad);
}

TEST(HttpParse, QueryAndPathSplitAtTheFirstQuestionMark) {
    HttpRequest r;
    ASSERT_EQ(parse("GET /a?b?c=d HTTP/1.1\r\n\r\n", r), ParseStatus::Complete);
    EXPECT_EQ(r.path, "/a");
    EXPECT_EQ(r.query, "b?c=d");
    ASSERT_EQ(parse("GET /x? HTTP/1.1\r\n\r\n", r), ParseStatus::Complete);
    EXPECT_EQ(r.path, "/x");
    EXPECT_EQ(r.query, "");
}

TEST(HttpParse, EmptyInputIsIncomplete) {
    EXPECT_EQ(parse(""), ParseStatus::Incomplete);
    EXPECT_EQ(parse("\r"), ParseStatus::Incomplete);
}

}  // namespace
}  // namespace sv
