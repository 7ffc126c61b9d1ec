// Addresses and URLs as users write them (core/address.h): one set of rules
// for configuration validation, the probes, the endpoint and `status`, so
// every accepted and every refused form is pinned down here.
#include "address.h"

#include <gtest/gtest.h>

#include <string>

namespace sv {
namespace {

constexpr HostPortRules kListen{.allow_empty_host = true, .allow_port_zero = true};

// ---- parse_host_port ---------------------------------------------------------

TEST(HostPort, HostAndPort) {
    auto hp = parse_host_port("127.0.0.1:5432");
    ASSERT_TRUE(hp.has_value());
    EXPECT_EQ(hp->host, "127.0.0.1");
    EXPECT_EQ(hp->port, "5432");
    EXPECT_EQ(hp->port_number, 5432);

    hp = parse_host_port("localhost:8080");
    ASSERT_TRUE(hp.has_value());
    EXPECT_EQ(hp->host, "localhost");
    EXPECT_EQ(hp->port_number, 8080);
}

TEST(HostPort, BracketedIpv6) {
    auto hp = parse_host_port("[::1]:9180");
    ASSERT_TRUE(hp.has_value());
    EXPECT_EQ(hp->host, "::1");  // stored without its brackets
    EXPECT_EQ(hp->port, "9180");
    EXPECT_EQ(hp->port_number, 9180);
}

TEST(HostPort, EmptyHostOnlyWhereAllowed) {
    // ":9180" means every interface: fine to listen on, not to connect to.
    EXPECT_FALSE(parse_host_port(":9180").has_value());
    auto hp = parse_host_port(":9180", {.allow_empty_host = true});
    ASSERT_TRUE(hp.has_value());
    EXPECT_EQ(hp->host, "");
    EXPECT_EQ(hp->port_number, 9180);
}

TEST(HostPort, PortZeroOnlyWhereAllowed) {
    // Port 0 lets the kernel pick: meaningful only for a listen address.
    EXPECT_FALSE(parse_host_port("127.0.0.1:0").has_value());
    EXPECT_FALSE(parse_host_port("127.0.0.1:00000").has_value());
    auto hp = parse_host_port("127.0.0.1:0", {.allow_port_zero = true});
    ASSERT_TRUE(hp.has_value());
    EXPECT_EQ(hp->port_number, 0);
    EXPECT_TRUE(parse_host_port(":0", kListen).has_value());
}

TEST(HostPort, PortRange) {
    EXPECT_TRUE(parse_host_port("h:1").has_value());
    auto hp = parse_host_port("h:65535");
    ASSERT_TRUE(hp.has_value());
    EXPECT_EQ(hp->port_number, 65535);
    EXPECT_FALSE(parse_host_port("h:65536").has_value());
    EXPECT_FALSE(parse_host_port("h:99999").has_value());
    // Six digits are refused even when the value would fit ("000080").
    EXPECT_FALSE(parse_host_port("h:000080").has_value());
    EXPECT_FALSE(parse_host_port("h:100000").has_value());
}

TEST(HostPort, PortMustBeDigits) {
    for (const char* s : {"h:http", "h:8o", "h:-1", "h:+80", "h: 80", "h:80 ", "h:0x50"})
        EXPECT_FALSE(parse_host_port(s).has_value()) << s;
}

TEST(HostPort, UnbracketedIpv6IsRefused) {
    // "::1:80" could be host "::1" port 80 or host "::1:80" without a port.
    EXPECT_FALSE(parse_host_port("::1:80").has_value());
    EXPECT_FALSE(parse_host_port("fe80::1:80", kListen).has_value());
}

TEST(HostPort, BracketsNeedAColonInside) {
    // Brackets are for IPv6 literals only.
    EXPECT_FALSE(parse_host_port("[abc]:80").has_value());
    EXPECT_FALSE(parse_host_port("[127.0.0.1]:80").has_value());
    EXPECT_FALSE(parse_host_port("[]:80", kListen).has_value());
}

TEST(HostPort, MalformedBrackets) {
    EXPECT_FALSE(parse_host_port("[::1]").has_value());      // no port
    EXPECT_FALSE(parse_host_port("[::1]80").has_value());    // no colon after ]
    EXPECT_FALSE(parse_host_port("[::1:80").has_value());    // never closed
    EXPECT_FALSE(parse_host_port("[::1]:").has_value());     // empty port
    EXPECT_FALSE(parse_host_port("a[::1]:80").has_value());  // bracket inside a name
}

TEST(HostPort, MissingColonOrPort) {
    EXPECT_FALSE(parse_host_port("localhost").has_value());
    EXPECT_FALSE(parse_host_port("8080").has_value());
    EXPECT_FALSE(parse_host_port("").has_value());
    EXPECT_FALSE(parse_host_port("localhost:").has_value());
    EXPECT_FALSE(parse_host_port(":", kListen).has_value());
}

TEST(HostPort, HostCharactersThatCannotBeAHost) {
    // A URL or user info pasted where a host:port belongs is refused, not
    // handed to getaddrinfo().
    for (const char* s : {"local host:80", "local\thost:80", " localhost:80", "http://h:80",
                          "h/x:80", "user@h:80", "a]b:80"})
        EXPECT_FALSE(parse_host_port(s, kListen).has_value()) << s;
}

TEST(HostPort, TextRoundTrips) {
    for (const char* s : {"127.0.0.1:80", "localhost:8080", "[::1]:9180", "[fe80::1]:1", ":9180",
                          ":0", "h:08080"}) {
        auto hp = parse_host_port(s, kListen);
        ASSERT_TRUE(hp.has_value()) << s;
        EXPECT_EQ(hp->text(), s);
        auto again = parse_host_port(hp->text(), kListen);
        ASSERT_TRUE(again.has_value()) << s;
        EXPECT_EQ(again->host, hp->host);
        EXPECT_EQ(again->port_number, hp->port_number);
    }
}

// ---- parse_http_url ------------------------------------------------------------

TEST(HttpUrl, DefaultPortIs80) {
    auto u = parse_http_url("http://example.com/ready");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->target.host, "example.com");
    EXPECT_EQ(u->target.port_number, 80);
    EXPECT_EQ(u->host_header, "example.com");
    EXPECT_EQ(u->path, "/ready");
}

TEST(HttpUrl, ExplicitPort) {
    auto u = parse_http_url("http://127.0.0.1:8080/healthz");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->target.host, "127.0.0.1");
    EXPECT_EQ(u->target.port_number, 8080);
    EXPECT_EQ(u->path, "/healthz");
}

TEST(HttpUrl, HostHeaderCarriesOnlyANonDefaultPort) {
    // RFC 9110: the default port is left out of Host.
    auto u = parse_http_url("http://example.com:80/x");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->host_header, "example.com");
    u = parse_http_url("http://example.com:8080/x");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->host_header, "example.com:8080");
}

TEST(HttpUrl, PathDefaultsToSlash) {
    auto u = parse_http_url("http://example.com");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->path, "/");
    u = parse_http_url("http://example.com:81");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->path, "/");
    EXPECT_EQ(u->host_header, "example.com:81");
}

TEST(HttpUrl, QueryIsKept) {
    auto u = parse_http_url("http://h/ready?full=1&x=y");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->path, "/ready?full=1&x=y");
    // A query right after the authority still gets its leading slash.
    u = parse_http_url("http://h?x=1");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->path, "/?x=1");
    EXPECT_EQ(u->host_header, "h");
}

TEST(HttpUrl, FragmentIsDropped) {
    // A fragment is never sent to the server.
    auto u = parse_http_url("http://h/ready?x=1#top");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->path, "/ready?x=1");
    u = parse_http_url("http://h#top");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->path, "/");
}

TEST(HttpUrl, SchemeInAnyCase) {
    for (const char* s : {"HTTP://h/x", "Http://h/x", "hTtP://h/x"}) {
        auto u = parse_http_url(s);
        ASSERT_TRUE(u.has_value()) << s;
        EXPECT_EQ(u->target.host, "h");
        EXPECT_EQ(u->path, "/x");
    }
}

TEST(HttpUrl, OtherSchemesAreRefused) {
    // No TLS in the probe: an https URL must not silently go out in clear.
    for (const char* s :
         {"https://h/x", "HTTPS://h/x", "ftp://h/x", "h:80/x", "//h/x", "http:/h", "http//h/x", ""})
        EXPECT_FALSE(parse_http_url(s).has_value()) << s;
}

TEST(HttpUrl, UserInfoIsRefused) {
    EXPECT_FALSE(parse_http_url("http://user:secret@h/x").has_value());
    EXPECT_FALSE(parse_http_url("http://user@h:8080/x").has_value());
}

TEST(HttpUrl, EmptyHostIsRefused) {
    EXPECT_FALSE(parse_http_url("http:///x").has_value());
    EXPECT_FALSE(parse_http_url("http://").has_value());
    EXPECT_FALSE(parse_http_url("http://:8080/x").has_value());  // nowhere to connect to
}

TEST(HttpUrl, Ipv6WithoutPort) {
    auto u = parse_http_url("http://[::1]/x");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->target.host, "::1");
    EXPECT_EQ(u->target.port_number, 80);
    EXPECT_EQ(u->host_header, "[::1]");
    EXPECT_EQ(u->path, "/x");
}

TEST(HttpUrl, Ipv6WithPort) {
    auto u = parse_http_url("http://[::1]:8080/x");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->target.host, "::1");
    EXPECT_EQ(u->target.port_number, 8080);
    EXPECT_EQ(u->host_header, "[::1]:8080");
    EXPECT_EQ(u->path, "/x");
}

TEST(HttpUrl, BadAuthorities) {
    for (const char* s : {"http://host:/x", "http://host:0/x", "http://host:65536/x",
                          "http://[::1/x", "http://::1/x", "http://[abc]/x", "http://a b/x"})
        EXPECT_FALSE(parse_http_url(s).has_value()) << s;
}

TEST(HttpUrl, WhitespaceAndControlCharactersAreRefused) {
    // The path goes verbatim onto the probe's request line and the host into
    // its Host header: "GET /a b HTTP/1.1" is malformed, and a CR LF would
    // add a header. Such a URL should be refused when the configuration is
    // loaded, not turn into a probe that can never pass.
    for (const char* s : {"http://h/a b", "http://h/x\r\nX-Evil: 1", "http://h/\tx",
                          "http://h/x?a=b c", "http://h\r\n:80/x"})
        EXPECT_FALSE(parse_http_url(s).has_value()) << s;
}

}  // namespace
}  // namespace sv
