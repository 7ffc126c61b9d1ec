// libFuzzer target for parse_request (supervisor/core/http_parse.cc).
//
// The parser faces every byte a network client can send to PID 1, so
// besides "never crashes" (ASan/UBSan catch that) it checks the promises
// the server relies on: a Complete head is never longer than the limit and
// is a prefix of the input, the path and query come from the target, and
// the verdict does not depend on bytes past the first complete head. The
// input is also fed in two pieces, as the network would, to check that an
// Incomplete verdict on a prefix never contradicts the verdict on the whole.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http_parse.h"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    // A small limit too, so that the TooLarge edges get exercised.
    for (const std::size_t max : {sv::kMaxRequestHead, std::size_t{64}}) {
        sv::HttpRequest r;
        const sv::ParseStatus st = sv::parse_request(in, r, max);
        if (st == sv::ParseStatus::Complete) {
            check(r.head_length > 0 && r.head_length <= max && r.head_length <= size);
            check(!r.method.empty() && !r.target.empty() && r.target[0] == '/');
            check(r.path == r.target.substr(0, r.target.find('?')));
            check(r.version_minor == 0 || r.version_minor == 1);
            check(!r.has_body);
            // Bytes after the head (a pipelined request) change nothing.
            sv::HttpRequest again;
            check(sv::parse_request(in.substr(0, r.head_length), again, max) ==
                  sv::ParseStatus::Complete);
            check(again.head_length == r.head_length && again.target == r.target &&
                  again.keep_alive == r.keep_alive);
        }
        if (st == sv::ParseStatus::TooLarge) check(size >= max);
        // Any prefix judged Bad or TooLarge stays so, and a Complete prefix is final.
        if (size > 0) {
            const std::size_t cut = data[0] % size;
            sv::HttpRequest part;
            const sv::ParseStatus pst = sv::parse_request(in.substr(0, cut), part, max);
            if (pst == sv::ParseStatus::Bad) check(st == sv::ParseStatus::Bad);
            if (pst == sv::ParseStatus::TooLarge) check(st == sv::ParseStatus::TooLarge);
            if (pst == sv::ParseStatus::Complete) check(st == sv::ParseStatus::Complete);
        }
    }
    return 0;
}
