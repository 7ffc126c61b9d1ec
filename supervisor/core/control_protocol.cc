// The control protocol: see control_protocol.h.
#include "control_protocol.h"

#include "suggest.h"

namespace sv {

namespace {

struct VerbName {
    ControlVerb verb;
    const char* name;
};

constexpr VerbName kVerbs[] = {
    {ControlVerb::Status, "status"},     {ControlVerb::Start, "start"},
    {ControlVerb::Stop, "stop"},         {ControlVerb::Restart, "restart"},
    {ControlVerb::Signal, "signal"},     {ControlVerb::Reload, "reload"},
    {ControlVerb::Logs, "logs"},         {ControlVerb::Wait, "wait"},
    {ControlVerb::Shutdown, "shutdown"},
};

bool printable_word(std::string_view w) {
    if (w.empty()) return false;
    for (char c : w)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
            return false;
    return true;
}

}  // namespace

const char* verb_name(ControlVerb v) {
    for (const VerbName& n : kVerbs)
        if (n.verb == v) return n.name;
    return "?";
}

std::string ControlRequest::line() const {
    std::string out(kControlVersion);
    out += ' ';
    out += verb_name(verb);
    for (const auto& [k, v] : options) out += " " + k + "=" + v;
    for (const std::string& o : operands) out += " " + o;
    out += '\n';
    return out;
}

std::optional<ControlRequest> parse_control_request(std::string_view line, std::string& error) {
    if (line.size() >= kMaxRequest) {
        error = "request too long (at most 64 KiB)";
        return std::nullopt;
    }
    std::vector<std::string_view> words;
    while (!line.empty()) {
        const std::size_t sp = line.find(' ');
        const std::string_view w = line.substr(0, sp);
        if (!printable_word(w)) {
            error = "malformed request (words are printable ASCII separated by single spaces)";
            return std::nullopt;
        }
        if (words.size() == kMaxWords) {
            error = "too many words in the request";
            return std::nullopt;
        }
        words.push_back(w);
        if (sp == std::string_view::npos) break;
        line.remove_prefix(sp + 1);
        if (line.empty()) {  // a trailing space
            error = "malformed request (words are printable ASCII separated by single spaces)";
            return std::nullopt;
        }
    }
    if (words.empty()) {
        error = "empty request";
        return std::nullopt;
    }
    if (words[0] != kControlVersion) {
        error = words[0].starts_with("SUPERVISOR/")
                    ? "unsupported protocol '" + std::string(words[0]) + "' (this is " +
                          std::string(kControlVersion) + ")"
                    : "not a control request (it starts with " + std::string(kControlVersion) + ")";
        return std::nullopt;
    }
    if (words.size() < 2) {
        error = "no verb in the request";
        return std::nullopt;
    }
    ControlRequest r;
    bool known = false;
    std::vector<std::string_view> names;
    for (const VerbName& n : kVerbs) {
        names.push_back(n.name);
        if (words[1] == n.name) {
            r.verb = n.verb;
            known = true;
        }
    }
    if (!known) {
        error = "unknown verb '" + std::string(words[1]) + "'" + did_you_mean(words[1], names);
        return std::nullopt;
    }
    for (std::size_t i = 2; i < words.size(); ++i) {
        const std::string_view w = words[i];
        const std::size_t eq = w.find('=');
        if (eq == std::string_view::npos) {
            r.operands.emplace_back(w);
            continue;
        }
        if (eq == 0) {
            error = "malformed option '" + std::string(w) + "'";
            return std::nullopt;
        }
        auto [it, fresh] =
            r.options.emplace(std::string(w.substr(0, eq)), std::string(w.substr(eq + 1)));
        if (!fresh) {
            error = "option '" + it->first + "' given twice";
            return std::nullopt;
        }
    }
    error = check_control_options(r);
    if (!error.empty()) return std::nullopt;
    return r;
}

std::string check_control_options(const ControlRequest& r) {
    std::vector<std::string_view> allowed;
    switch (r.verb) {
        case ControlVerb::Start:
        case ControlVerb::Restart:
            allowed = {"wait", "timeout"};
            break;
        case ControlVerb::Stop:
            allowed = {"wait", "timeout"};
            break;
        case ControlVerb::Logs:
            allowed = {"follow", "lines"};
            break;
        case ControlVerb::Wait:
            allowed = {"timeout"};
            break;
        default:
            break;
    }
    for (const auto& [k, v] : r.options) {
        bool ok = false;
        for (std::string_view a : allowed) ok = ok || k == a;
        if (!ok)
            return std::string("'") + verb_name(r.verb) + "' takes no option '" + k + "'" +
                   did_you_mean(k, allowed);
        if ((k == "wait" || k == "follow") && v != "yes" && v != "no")
            return "option '" + k + "' is yes or no, not '" + v + "'";
    }
    const bool needs_names = r.verb == ControlVerb::Start || r.verb == ControlVerb::Stop ||
                             r.verb == ControlVerb::Restart;
    if (needs_names && r.operands.empty())
        return std::string("'") + verb_name(r.verb) + "' needs at least one service name";
    if (r.verb == ControlVerb::Signal && r.operands.size() < 2)
        return "'signal' needs a signal and at least one service name";
    if ((r.verb == ControlVerb::Reload || r.verb == ControlVerb::Shutdown) && !r.operands.empty())
        return std::string("'") + verb_name(r.verb) + "' takes no operand";
    return "";
}

std::string format_reply(const ReplyLine& line) {
    switch (line.kind) {
        case ReplyKind::Data:
            return ". " + line.text;
        case ReplyKind::Message:
            return "! " + line.text;
        case ReplyKind::End:
            return "= " + std::to_string(line.code) + " " + line.text;
    }
    return "";
}

std::optional<ReplyLine> parse_reply(std::string_view line) {
    if (line.size() < 2 || line[1] != ' ') return std::nullopt;
    ReplyLine r;
    const std::string_view rest = line.substr(2);
    switch (line[0]) {
        case '.':
            r.kind = ReplyKind::Data;
            r.text = std::string(rest);
            return r;
        case '!':
            r.kind = ReplyKind::Message;
            r.text = std::string(rest);
            return r;
        case '=':
            r.kind = ReplyKind::End;
            if (rest.empty() || rest[0] < '0' || rest[0] > '3' ||
                (rest.size() > 1 && rest[1] != ' '))
                return std::nullopt;
            r.code = rest[0] - '0';
            r.text = rest.size() > 2 ? std::string(rest.substr(2)) : std::string();
            return r;
        default:
            return std::nullopt;
    }
}

}  // namespace sv
