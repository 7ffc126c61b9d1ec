// Network addresses as users write them, parsed by one set of rules for the
// whole program: configuration validation, the probes, the health
// endpoint's listen address and the `status` client all use this file.
//
//   host:port      "127.0.0.1:5432", "localhost:8080"
//   [v6]:port      "[::1]:9180" (an IPv6 literal needs its brackets)
//   :port          every interface (a listen address only)
//   http URL       "http://host[:port][/path][?query]" (scheme in any case,
//                  port 80 by default, no user info, no https, no spaces or
//                  control characters)
//
// Ports are 1 to 5 digits up to 65535; port 0 ("let the kernel pick") is
// accepted only where the caller allows it (a listen address).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sv {

struct HostPort {
    std::string host;  // without brackets; empty for ":port"
    std::string port;  // the digits as written
    std::uint16_t port_number = 0;

    // "127.0.0.1:80", "[::1]:80", ":80": the form parse_host_port reads back.
    std::string text() const;
};

struct HostPortRules {
    bool allow_empty_host = false;  // ":9180" (listen addresses)
    bool allow_port_zero = false;   // ":0" (listen addresses)
};

std::optional<HostPort> parse_host_port(std::string_view s, HostPortRules rules = {});

struct HttpUrl {
    HostPort target;          // where to connect (port 80 when not written)
    std::string host_header;  // RFC 9110 Host: the authority, without ":80"
    std::string path;         // "/ready?x=1": what goes on the request line
};

std::optional<HttpUrl> parse_http_url(std::string_view url);

}  // namespace sv
