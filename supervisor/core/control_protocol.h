// The control socket's protocol (docs/control.md), both ways.
//
// One request per connection, one line of text, at most kMaxRequest bytes
// with its newline:
//
//   SUPERVISOR/1 VERB [ARG...]\n
//
// Words are separated by single spaces and are printable ASCII (no space,
// no control character). An argument with '=' is an option (`wait=no`,
// `timeout=30s`, `lines=100`, `follow=yes`), any other an operand (a service
// name, a signal). The answer is lines, each a tag, a space and text:
//
//   . TEXT        output for the client's stdout (a status document, log lines)
//   ! TEXT        a message for the client's stderr
//   = CODE TEXT   the end: the client's exit code (0 ok, 1 failed, 2 usage
//                 or unknown service, 3 refused) and a summary; then the
//                 server closes the connection
//
// The parser is strict (anything else is refused, never guessed), bounded,
// allocation-light, and fuzzed (fuzz/control_fuzz.cc).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sv {

inline constexpr std::string_view kControlVersion = "SUPERVISOR/1";
inline constexpr std::size_t kMaxRequest = 64 * 1024;
inline constexpr std::size_t kMaxWords = 4096;

enum class ControlVerb { Status, Start, Stop, Restart, Signal, Reload, Logs, Wait, Shutdown };

const char* verb_name(ControlVerb v);

struct ControlRequest {
    ControlVerb verb = ControlVerb::Status;
    std::vector<std::string> operands;  // in order
    std::map<std::string, std::string> options;

    // The request line, newline included.
    std::string line() const;
};

// Parses one request line (without its newline). nullopt with `error` set
// ("unknown verb 'strat'", "unsupported protocol 'SUPERVISOR/2'").
std::optional<ControlRequest> parse_control_request(std::string_view line, std::string& error);

// The options each verb takes, and whether each is valid: an error text or "".
std::string check_control_options(const ControlRequest& request);

enum class ReplyKind { Data, Message, End };

struct ReplyLine {
    ReplyKind kind = ReplyKind::Data;
    int code = 0;  // End only
    std::string text;
};

// One answer line (without its newline), as the server writes them.
std::string format_reply(const ReplyLine& line);
// The client's reading of one (without its newline); nullopt when malformed.
std::optional<ReplyLine> parse_reply(std::string_view line);

}  // namespace sv
