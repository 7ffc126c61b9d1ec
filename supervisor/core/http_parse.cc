// The request-head parser of the health endpoint.
//
// The parser is a function of the bytes received so far, not an object with
// state: the server calls it again with the whole buffer whenever a new line
// has arrived. That keeps it trivially safe to fuzz and to reason about, and
// the cost is bounded because the buffer is bounded (kMaxRequestHead).
//
// It walks the head line by line. A complete line is checked in full; the
// last, incomplete line is checked as a prefix, so that garbage (a TLS
// ClientHello, "PRI * HTTP/2.0") is rejected at once instead of after the
// 5 s head deadline.
//
// Accepted grammar (RFC 9112, strict where being lenient buys nothing):
//   - empty lines before the request line are skipped (RFC 9112 §2.2);
//   - request line: METHOD SP TARGET SP HTTP/1.0|HTTP/1.1, single spaces;
//     the method is any token, case preserved: "get" is a valid token
//     but a different method, so the server answers it 405;
//   - the target is origin-form only: it starts with '/' and holds visible
//     ASCII; it is split at the first '?' into path and query, with no
//     percent-decoding (every route we serve is plain ASCII);
//   - header lines are NAME ":" OWS VALUE OWS, NAME a token, no space
//     before the colon; the value holds no control characters but HTAB;
//   - a line starting with SP or HTAB (obsolete line folding) is Bad;
//   - lines end in CRLF or a bare LF (RFC 9112 §2.2 allows a recipient to
//     accept LF; `printf 'GET /livez HTTP/1.0\n\n' | nc` then works); a CR
//     anywhere else is Bad;
//   - no Host is required: there is one site here, and a hand-written probe
//     that forgets it should still get an answer;
//   - Content-Length other than 0, or any Transfer-Encoding, is Bad (no
//     request we serve has a body); `out.has_body` then tells the server so
//     that it can still answer 405 to a POST.
#include "http_parse.h"

#include <algorithm>

namespace sv {

namespace {

// tchar from RFC 9110 §5.6.2.
bool is_tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_target_char(unsigned char c) {
    return c > 0x20 && c < 0x7f;
}

// field-vchar, SP, HTAB and obs-text: anything but the other control characters.
bool is_value_char(unsigned char c) {
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// Outcome of checking one line: fine so far, needs more bytes, or wrong.
enum class Check { Ok, More, Bad };

struct Head {
    std::string_view method;
    std::string_view target;
    int minor = 1;
    bool conn_close = false;
    bool conn_keep_alive = false;
    bool body = false;
};

// `partial`: the line has no line end yet, so running out of bytes means
// "More" rather than "Bad".
Check check_request_line(std::string_view l, bool partial, Head& h) {
    const Check short_line = partial ? Check::More : Check::Bad;
    std::size_t i = 0;
    while (i < l.size() && is_tchar(static_cast<unsigned char>(l[i]))) ++i;
    if (i == l.size()) return short_line;
    if (i == 0 || l[i] != ' ') return Check::Bad;
    h.method = l.substr(0, i);

    const std::size_t t = ++i;
    if (i == l.size()) return short_line;
    if (l[i] != '/') return Check::Bad;
    while (i < l.size() && is_target_char(static_cast<unsigned char>(l[i]))) ++i;
    if (i == l.size()) return short_line;
    if (l[i] != ' ') return Check::Bad;
    h.target = l.substr(t, i - t);

    const std::string_view version = l.substr(i + 1);
    constexpr std::string_view k10 = "HTTP/1.0", k11 = "HTTP/1.1";
    if (version == k10 || version == k11) {
        h.minor = version.back() - '0';
        return Check::Ok;
    }
    if (partial && (k10.starts_with(version) || k11.starts_with(version))) return Check::More;
    return Check::Bad;
}

// Connection: a comma-separated list of case-insensitive tokens.
void read_connection(std::string_view v, Head& h) {
    while (!v.empty()) {
        const std::size_t comma = v.find(',');
        const std::string_view item = trim_ows(v.substr(0, comma));
        if (iequals(item, "close")) h.conn_close = true;
        if (iequals(item, "keep-alive")) h.conn_keep_alive = true;
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
}

// Content-Length: digits only; anything but zero announces a body.
Check read_content_length(std::string_view v, Head& h) {
    if (v.empty()) return Check::Bad;
    for (char c : v) {
        if (c < '0' || c > '9') return Check::Bad;
        if (c != '0') h.body = true;
    }
    return Check::Ok;
}

Check check_header_line(std::string_view l, bool partial, Head& h) {
    if (is_ows(l.front())) return Check::Bad;  // obs-fold, or whitespace before the name
    std::size_t i = 0;
    while (i < l.size() && is_tchar(static_cast<unsigned char>(l[i]))) ++i;
    if (i == l.size()) return partial ? Check::More : Check::Bad;
    if (i == 0 || l[i] != ':') return Check::Bad;
    const std::string_view name = l.substr(0, i);
    const std::string_view raw = l.substr(i + 1);
    if (!std::all_of(raw.begin(), raw.end(),
                     [](char c) { return is_value_char(static_cast<unsigned char>(c)); }))
        return Check::Bad;
    if (partial) return Check::More;

    const std::string_view value = trim_ows(raw);
    if (iequals(name, "connection")) read_connection(value, h);
    if (iequals(name, "transfer-encoding")) h.body = true;
    if (iequals(name, "content-length")) return read_content_length(value, h);
    return Check::Ok;
}

void split_target(std::string_view target, HttpRequest& out) {
    const std::size_t q = target.find('?');
    out.target.assign(target);
    out.path.assign(target.substr(0, q));
    if (q == std::string_view::npos)
        out.query.clear();
    else
        out.query.assign(target.substr(q + 1));
}

}  // namespace

ParseStatus parse_request(std::string_view data, HttpRequest& out, std::size_t max_head) {
    // Only the first max_head bytes can belong to an acceptable head; if the
    // head has not ended within them, it is too large whatever follows.
    const std::string_view d = data.substr(0, std::min(data.size(), max_head));
    const ParseStatus incomplete =
        data.size() >= max_head ? ParseStatus::TooLarge : ParseStatus::Incomplete;

    out.has_body = false;
    Head h;
    bool have_request_line = false;
    std::size_t pos = 0;
    while (pos < d.size()) {
        const std::size_t lf = d.find('\n', pos);
        const bool partial = lf == std::string_view::npos;
        std::string_view line = d.substr(pos, partial ? std::string_view::npos : lf - pos);
        // A CR may only end a line. In a partial line, a trailing CR may be
        // the first half of a CRLF still on its way.
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const std::size_t next = partial ? d.size() : lf + 1;

        Check c = Check::Ok;
        if (line.empty()) {
            if (partial) break;
            if (have_request_line) {
                out.method.assign(h.method);
                split_target(h.target, out);
                out.version_minor = h.minor;
                out.keep_alive = !h.conn_close && (h.minor == 1 || h.conn_keep_alive);
                out.head_length = next;
                out.has_body = h.body;
                return h.body ? ParseStatus::Bad : ParseStatus::Complete;
            }
            // An empty line before the request line: skipped.
        } else if (!have_request_line) {
            c = check_request_line(line, partial, h);
            have_request_line = c == Check::Ok;
        } else {
            c = check_header_line(line, partial, h);
        }
        if (c == Check::Bad) return ParseStatus::Bad;
        if (c == Check::More) break;
        pos = next;
    }
    return incomplete;
}

}  // namespace sv
