// One parser for addresses and URLs: see address.h.
#include "address.h"

namespace sv {

namespace {

std::optional<std::uint16_t> parse_port(std::string_view port, bool allow_zero) {
    if (port.empty() || port.size() > 5) return std::nullopt;
    unsigned n = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<unsigned>(c - '0');
    }
    if (n > 65535 || (n == 0 && !allow_zero)) return std::nullopt;
    return static_cast<std::uint16_t>(n);
}

bool ieq_prefix(std::string_view s, std::string_view lower_prefix) {
    if (s.size() < lower_prefix.size()) return false;
    for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != lower_prefix[i]) return false;
    }
    return true;
}

}  // namespace

std::string HostPort::text() const {
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
    return host + ":" + port;
}

std::optional<HostPort> parse_host_port(std::string_view s, HostPortRules rules) {
    HostPort out;
    std::string_view host, port;
    if (!s.empty() && s.front() == '[') {
        const std::size_t close = s.find(']');
        if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
            return std::nullopt;
        host = s.substr(1, close - 1);
        port = s.substr(close + 2);
        // Brackets are for IPv6 literals, which always hold a colon.
        if (host.find(':') == std::string_view::npos) return std::nullopt;
    } else {
        const std::size_t colon = s.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
        // "::1:80" is ambiguous: an IPv6 literal needs its brackets.
        if (host.find(':') != std::string_view::npos) return std::nullopt;
        if (host.empty() && !rules.allow_empty_host) return std::nullopt;
    }
    for (char c : host)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '/' || c == '@' ||
            c == '[' || c == ']')
            return std::nullopt;
    auto number = parse_port(port, rules.allow_port_zero);
    if (!number) return std::nullopt;
    out.host = std::string(host);
    out.port = std::string(port);
    out.port_number = *number;
    return out;
}

std::optional<HttpUrl> parse_http_url(std::string_view url) {
    constexpr std::string_view kScheme = "http://";
    if (!ieq_prefix(url, kScheme)) return std::nullopt;
    // The path goes verbatim onto a request line and the host into a Host
    // header: a space or a control character (CR LF) would break the head.
    for (char c : url)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
    url.remove_prefix(kScheme.size());
    const std::size_t end = url.find_first_of("/?#");
    const std::string_view authority = url.substr(0, end);
    std::string_view rest = end == std::string_view::npos ? "" : url.substr(end);
    if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos)
        rest = rest.substr(0, hash);  // fragments are never sent
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;

    // The port is optional: without one, ":80" is implied.
    const bool bracketed = authority.front() == '[';
    const std::size_t close = bracketed ? authority.find(']') : 0;
    if (close == std::string_view::npos) return std::nullopt;
    const bool has_port = authority.find(':', close) != std::string_view::npos;
    const std::string full = std::string(authority) + (has_port ? "" : ":80");
    auto target = parse_host_port(full);
    if (!target) return std::nullopt;

    HttpUrl out;
    out.target = std::move(*target);
    // RFC 9110: Host carries the port only when it is not the scheme's default.
    out.host_header =
        out.target.port_number == 80 ? full.substr(0, full.rfind(':')) : std::string(authority);
    out.path = rest.empty() || rest.front() != '/' ? "/" + std::string(rest) : std::string(rest);
    return out;
}

}  // namespace sv
