// What the health endpoint answers (docs/health.md), as a pure function of
// the request and the supervisor's state; os/http_server.cc only moves the
// bytes. Read-only: GET and HEAD, everything else is 405.
//
//   /livez            200 "ok" while the loop runs
//   /readyz, /healthz 200 "ok" when not shutting down and every service is
//                     ready; else 503 with the ?verbose list
//   /readyz/NAME      one service (also 503 while draining)
//   /status           JSON, /metrics Prometheus text
#pragma once

#include <string>
#include <string_view>

#include "http_parse.h"
#include "snapshot.h"

namespace sv {

// Where the answers come from. all_ready() is a cheap fast path for
// /readyz without ?verbose: it must agree with snapshot().all_ready().
class StatusSource {
  public:
    virtual Snapshot snapshot() = 0;
    virtual bool all_ready() = 0;

  protected:
    ~StatusSource() = default;
};

struct HttpAnswer {
    int status = 200;
    std::string_view content_type;
    std::string body;
    std::string_view extra_headers;  // whole "Name: value\r\n" lines
};

// The answer to a complete, well-formed request head.
HttpAnswer answer_request(const HttpRequest& request, StatusSource& source);

// The answer to a head that parse_request() refused (Bad or TooLarge); the
// connection is closed after it.
HttpAnswer answer_parse_error(ParseStatus status, const HttpRequest& partial);

// The answer when building a response failed (out of memory).
HttpAnswer answer_internal_error();

// "OK", "Service Unavailable", …
const char* reason_phrase(int status);

// "?verbose", "?verbose=1", "?a&verbose": on; "?verbose=false", "=0", "=no",
// "=off": off.
bool query_flag(std::string_view query, std::string_view name);

}  // namespace sv
