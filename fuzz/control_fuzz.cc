// libFuzzer target for the control protocol (supervisor/core/control_protocol.cc):
// every byte a local client sends to PID 1's control socket goes through
// parse_control_request, and every byte the server sends back through the
// client's parse_reply.
//
// Besides "never crashes" (ASan/UBSan): a request that parses has a known
// verb, its words are printable and space-free, it passes its own option
// check, and its line() parses back to the same request; a refusal always
// says why; a reply that parses formats back to the same line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "control_protocol.h"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

bool clean_word(const std::string& w) {
    if (w.empty()) return false;
    for (char c : w)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
            return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string error;
    const auto r = sv::parse_control_request(in, error);
    if (r) {
        check(error.empty());
        check(sv::check_control_options(*r).empty());
        for (const std::string& o : r->operands)
            check(clean_word(o) && o.find('=') == std::string::npos);
        for (const auto& [k, v] : r->options) check(clean_word(k + "=" + v));
        const std::string line = r->line();
        check(!line.empty() && line.back() == '\n');
        std::string again_error;
        const auto again = sv::parse_control_request(
            std::string_view(line).substr(0, line.size() - 1), again_error);
        check(again.has_value());
        check(again->verb == r->verb && again->operands == r->operands &&
              again->options == r->options);
    } else {
        check(!error.empty());
    }
    // The same bytes as a reply line, as the client reads the server's.
    if (const auto reply = sv::parse_reply(in)) {
        check(reply->code >= 0 && reply->code <= 3);
        if (reply->kind != sv::ReplyKind::End || !reply->text.empty())
            check(sv::format_reply(*reply) == in);
    }
    return 0;
}
