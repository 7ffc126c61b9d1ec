// A small strict HTTP/1.1 request-head parser for the health endpoint.
//
// Why hand-written: the endpoint only needs the request line, the
// Connection header and the head's end; Debian's parsers (llhttp is not
// packaged for C++ in bookworm; libmicrohttpd brings its own threads and
// loop) would either not fit one libev loop or cost more than they save.
// The parser is pure, incremental and bounded, and fuzzed (fuzz/).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sv {

struct HttpRequest {
    std::string method;     // "GET"
    std::string target;     // "/readyz?verbose"
    std::string path;       // "/readyz"
    std::string query;      // "verbose"
    int version_minor = 1;  // HTTP/1.x
    bool keep_alive =
        true;  // HTTP/1.1 default; "Connection: close" or 1.0 without keep-alive: false
    std::size_t head_length = 0;  // bytes consumed, including the final CRLFCRLF
    // Set along with Bad when the head was well-formed but announced a body
    // (Content-Length > 0 or Transfer-Encoding); method and target are then
    // filled too, so the server can still answer 405 to a POST.
    bool has_body = false;
};

enum class ParseStatus {
    Incomplete,  // need more bytes
    Complete,    // a whole head was parsed into the request
    Bad,         // malformed: answer 400 and close
    TooLarge,    // head longer than the limit: answer 431 and close
};

constexpr std::size_t kMaxRequestHead = 8 * 1024;

// Parses one request head from the start of `data`. Bodies are not supported
// (a Content-Length other than 0 or Transfer-Encoding is Bad).
ParseStatus parse_request(std::string_view data, HttpRequest& out,
                          std::size_t max_head = kMaxRequestHead);

}  // namespace sv
