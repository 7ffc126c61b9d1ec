// Pure renderers of a status Snapshot, and the reader of our own /status.
//
// Every view of the supervisor's state that leaves the process is built
// here from one plain value, so that /status, /metrics, /readyz?verbose and
// `supervisor status` can never disagree, and each is a unit test away.
//
// Numbers: /status reports whole seconds (what a human or a probe script
// compares), /metrics keeps milliseconds (Prometheus values are floats).
//
// parse_status_json is a small hand-written recursive-descent JSON reader:
// no JSON library is in our dependency list (Debian packages only: libev,
// toml++, GoogleTest), and the one document it must read is our own, so a
// few dozen lines beat a new dependency. It still accepts any valid JSON
// (nesting bounded, so hostile input cannot exhaust the stack), because
// `supervisor status` may talk to a newer supervisor that adds fields.
#include "status_render.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "log.h"
#include "signals.h"

namespace sv {

namespace {

// The SPEC §2 states, in lifecycle order, for supervisor_service_state.
const char* const kStates[] = {"pending", "starting",  "ready",  "unhealthy", "stopping",
                               "backoff", "completed", "exited", "failed"};

long long whole_seconds(double s) {
    return s > 0 ? static_cast<long long>(std::floor(s)) : 0;
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

// Prometheus label values escape backslash, double quote and line feed.
std::string label_value(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void service_sample(std::string& out, const char* name, const ServiceSnapshot& svc,
                    const std::string& value) {
    out += name;
    out += "{service=\"" + label_value(svc.name) + "\"} " + value + "\n";
}

bool counts_as_ready(const ServiceSnapshot& svc) {
    return svc.state == "ready" || svc.state == "completed";
}

// 3s, 2m5s, 1h2m, 3d4h: two units at most, as `docker ps` keeps it short.
std::string short_duration(double seconds) {
    long long s = whole_seconds(seconds);
    const long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
    s %= 60;
    if (d > 0) return std::to_string(d) + "d" + std::to_string(h) + "h";
    if (h > 0) return std::to_string(h) + "h" + std::to_string(m) + "m";
    if (m > 0) return std::to_string(m) + "m" + std::to_string(s) + "s";
    return std::to_string(s) + "s";
}

// ---- a minimal JSON reader ------------------------------------------------

struct Json {
    enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
    bool b = false;
    double n = 0;
    std::string s;
    std::vector<Json> items;  // Array
    // Object: parallel vectors, since std::vector is the one standard
    // container that may hold the still-incomplete Json.
    std::vector<std::string> keys;
    std::vector<Json> values;

    // The last duplicate wins, as in most readers.
    const Json* get(std::string_view key) const {
        for (std::size_t i = keys.size(); i-- > 0;)
            if (keys[i] == key) return &values[i];
        return nullptr;
    }
};

class JsonReader {
  public:
    explicit JsonReader(std::string_view text) : t_(text) {}

    bool document(Json& out) {
        if (!value(out, 0)) return false;
        ws();
        return p_ == t_.size();
    }

  private:
    static constexpr int kMaxDepth = 32;

    void ws() {
        while (p_ < t_.size() &&
               (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r'))
            ++p_;
    }
    bool eat(char c) {
        ws();
        if (p_ < t_.size() && t_[p_] == c) {
            ++p_;
            return true;
        }
        return false;
    }
    bool literal(std::string_view word) {
        if (t_.substr(p_, word.size()) != word) return false;
        p_ += word.size();
        return true;
    }

    bool value(Json& v, int depth) {
        if (depth > kMaxDepth) return false;
        ws();
        if (p_ >= t_.size()) return false;
        switch (t_[p_]) {
            case '{':
                return object(v, depth);
            case '[':
                return array(v, depth);
            case '"':
                v.kind = Json::String;
                return string(v.s);
            case 't':
                v.kind = Json::Bool;
                v.b = true;
                return literal("true");
            case 'f':
                v.kind = Json::Bool;
                v.b = false;
                return literal("false");
            case 'n':
                v.kind = Json::Null;
                return literal("null");
            default:
                v.kind = Json::Number;
                return num(v.n);
        }
    }

    bool object(Json& v, int depth) {
        v.kind = Json::Object;
        ++p_;
        if (eat('}')) return true;
        do {
            std::string key;
            ws();
            if (p_ >= t_.size() || t_[p_] != '"' || !string(key) || !eat(':')) return false;
            v.keys.push_back(std::move(key));
            v.values.emplace_back();
            if (!value(v.values.back(), depth + 1)) return false;
        } while (eat(','));
        return eat('}');
    }

    bool array(Json& v, int depth) {
        v.kind = Json::Array;
        ++p_;
        if (eat(']')) return true;
        do {
            v.items.emplace_back();
            if (!value(v.items.back(), depth + 1)) return false;
        } while (eat(','));
        return eat(']');
    }

    bool num(double& out) {
        // JSON's number grammar is a subset of what from_chars accepts,
        // except that from_chars takes no leading '+', nor "inf"/"nan".
        const char* b = t_.data() + p_;
        const char* e = t_.data() + t_.size();
        if (b == e || !(*b == '-' || (*b >= '0' && *b <= '9'))) return false;
        auto r = std::from_chars(b, e, out);
        if (r.ec != std::errc()) return false;
        p_ += static_cast<std::size_t>(r.ptr - b);
        return true;
    }

    bool hex4(unsigned& cp) {
        if (t_.size() - p_ < 4) return false;
        cp = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = t_[p_++];
            cp <<= 4;
            if (c >= '0' && c <= '9')
                cp |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
                cp |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                cp |= static_cast<unsigned>(c - 'A' + 10);
            else
                return false;
        }
        return true;
    }

    static void utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }

    bool string(std::string& out) {
        ++p_;  // the opening quote
        while (p_ < t_.size()) {
            const char c = t_[p_++];
            if (c == '"') return true;
            if (static_cast<unsigned char>(c) < 0x20) return false;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (p_ >= t_.size()) return false;
            switch (t_[p_++]) {
                case '"':
                    out += '"';
                    break;
                case '\\':
                    out += '\\';
                    break;
                case '/':
                    out += '/';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    unsigned cp;
                    if (!hex4(cp)) return false;
                    if (cp >= 0xd800 && cp < 0xdc00) {  // a surrogate pair
                        unsigned lo;
                        if (!literal("\\u") || !hex4(lo) || lo < 0xdc00 || lo > 0xdfff)
                            return false;
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                        return false;
                    }
                    utf8(out, cp);
                    break;
                }
                default:
                    return false;
            }
        }
        return false;
    }

    std::string_view t_;
    std::size_t p_ = 0;
};

// Field readers: a missing field keeps its default, a field of the wrong type fails.
bool read_string(const Json& o, const char* key, std::string& out) {
    const Json* v = o.get(key);
    if (!v) return true;
    if (v->kind != Json::String) return false;
    out = v->s;
    return true;
}

template <typename T>
bool read_number(const Json& o, const char* key, T& out) {
    const Json* v = o.get(key);
    if (!v || v->kind == Json::Null) return true;
    // Range-checked: converting an out-of-range double is undefined behaviour.
    if (v->kind != Json::Number ||
        !(v->n >= static_cast<double>(std::numeric_limits<T>::lowest())) ||
        !(v->n <= static_cast<double>(std::numeric_limits<T>::max())))
        return false;
    out = static_cast<T>(v->n);
    return true;
}

bool read_last_exit(const Json& o, std::optional<ExitStatus>& out) {
    const Json* v = o.get("last_exit");
    if (!v || v->kind == Json::Null) return true;
    if (v->kind != Json::Object) return false;
    if (const Json* code = v->get("code")) {
        int n = 0;
        if (code->kind != Json::Number || !read_number(*v, "code", n)) return false;
        out = ExitStatus::exited(n);
        return true;
    }
    const Json* sig = v->get("signal");
    if (!sig || sig->kind != Json::String) return false;
    out = ExitStatus::killed(parse_signal(sig->s).value_or(0));
    return true;
}

bool read_service(const Json& o, ServiceSnapshot& svc) {
    if (o.kind != Json::Object || !o.get("name")) return false;
    const Json* ready = o.get("ready");
    if (ready && ready->kind != Json::Bool) return false;
    svc.ready = ready && ready->b;
    if (!read_string(o, "name", svc.name) || !read_string(o, "state", svc.state) ||
        !read_number(o, "pid", svc.pid) || !read_number(o, "restarts", svc.restarts) ||
        !read_number(o, "since_seconds", svc.since_seconds) ||
        !read_string(o, "status", svc.status_text) || !read_string(o, "reason", svc.reason) ||
        !read_last_exit(o, svc.last_exit))
        return false;
    svc.up = svc.pid != 0;
    return true;
}

}  // namespace

bool Snapshot::all_ready() const {
    if (shutting_down) return false;
    for (const ServiceSnapshot& svc : services)
        if (!counts_as_ready(svc)) return false;
    return true;
}

std::string render_status_json(const Snapshot& s) {
    std::string out = "{\"state\": " + json_quote(s.state) +
                      ", \"uptime_seconds\": " + std::to_string(whole_seconds(s.uptime_seconds)) +
                      ", \"services\": [";
    bool first = true;
    for (const ServiceSnapshot& svc : s.services) {
        out += first ? "\n  " : ",\n  ";
        first = false;
        out += "{\"name\": " + json_quote(svc.name) + ", \"state\": " + json_quote(svc.state);
        out += ", \"pid\": " + (svc.pid > 0 ? std::to_string(svc.pid) : std::string("null"));
        out += std::string(", \"ready\": ") + (svc.ready ? "true" : "false");
        out += ", \"restarts\": " + std::to_string(svc.restarts);
        out += ", \"last_exit\": ";
        if (!svc.last_exit)
            out += "null";
        else if (svc.last_exit->signaled)
            out += "{\"signal\": " + json_quote(signal_name(svc.last_exit->value)) + "}";
        else
            out += "{\"code\": " + std::to_string(svc.last_exit->value) + "}";
        out += ", \"since_seconds\": " + std::to_string(whole_seconds(svc.since_seconds));
        if (!svc.status_text.empty()) out += ", \"status\": " + json_quote(svc.status_text);
        if (!svc.reason.empty()) out += ", \"reason\": " + json_quote(svc.reason);
        out += "}";
    }
    out += s.services.empty() ? "]}\n" : "\n]}\n";
    return out;
}

std::string render_metrics(const Snapshot& s) {
    std::string out;
    out.reserve(512 + s.services.size() * 1024);

    family(out, "supervisor_service_up", "gauge",
           "Whether the service has a running process (1) or not (0).");
    for (const auto& svc : s.services)
        service_sample(out, "supervisor_service_up", svc, svc.up ? "1" : "0");

    family(out, "supervisor_service_ready", "gauge",
           "Whether the service is ready (1) or not (0).");
    for (const auto& svc : s.services)
        service_sample(out, "supervisor_service_ready", svc, svc.ready ? "1" : "0");

    family(out, "supervisor_service_restarts_total", "counter",
           "Times the service was restarted after it ended.");
    for (const auto& svc : s.services)
        service_sample(out, "supervisor_service_restarts_total", svc, std::to_string(svc.restarts));

    family(out, "supervisor_service_state", "gauge",
           "The service's state: 1 for the current one, 0 for the others.");
    for (const auto& svc : s.services) {
        bool known = false;
        const std::string prefix =
            "supervisor_service_state{service=\"" + label_value(svc.name) + "\",state=\"";
        for (const char* st : kStates) {
            const bool current = svc.state == st;
            known = known || current;
            out += prefix + st + "\"} " + (current ? "1\n" : "0\n");
        }
        if (!known) out += prefix + label_value(svc.state) + "\"} 1\n";
    }

    family(out, "supervisor_services", "gauge", "Number of configured services.");
    out += "supervisor_services " + std::to_string(s.services.size()) + "\n";
    family(out, "supervisor_ready", "gauge",
           "Whether /readyz answers 200: not shutting down and every service ready or completed.");
    out += std::string("supervisor_ready ") + (s.all_ready() ? "1" : "0") + "\n";
    family(out, "supervisor_shutting_down", "gauge",
           "Whether a shutdown is in progress (1) or not (0).");
    out += std::string("supervisor_shutting_down ") + (s.shutting_down ? "1" : "0") + "\n";
    family(out, "supervisor_reaped_total", "counter",
           "Child processes reaped, the services' and the orphans'.");
    out += "supervisor_reaped_total " + std::to_string(s.reaped_total) + "\n";
    family(out, "supervisor_uptime_seconds", "gauge", "Seconds since the supervisor started.");
    out += "supervisor_uptime_seconds " + number(s.uptime_seconds) + "\n";
    return out;
}

std::string render_ready_verbose(const Snapshot& s, const std::string& endpoint) {
    std::string out;
    for (const ServiceSnapshot& svc : s.services) {
        if (counts_as_ready(svc))
            out += "[+]" + svc.name + " ok\n";
        else
            out += "[-]" + svc.name + " not ready: " + svc.state + "\n";
    }
    if (s.shutting_down) out += "[-]shutdown not ready: shutting down\n";
    out += endpoint + (s.all_ready() ? " check passed\n" : " check failed\n");
    return out;
}

std::string render_status_table(const Snapshot& s) {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"NAME", "STATE", "PID", "READY", "RESTARTS", "UPTIME", "LAST EXIT"});
    for (const ServiceSnapshot& svc : s.services) {
        std::string last = "-";
        if (svc.last_exit)
            last = svc.last_exit->signaled ? signal_name(svc.last_exit->value)
                                           : "exit " + std::to_string(svc.last_exit->value);
        rows.push_back({svc.name, svc.state, svc.pid > 0 ? std::to_string(svc.pid) : "-",
                        svc.ready ? "yes" : "no", std::to_string(svc.restarts),
                        svc.pid > 0 ? short_duration(svc.since_seconds) : "-", last});
    }
    std::vector<std::size_t> width(rows[0].size(), 0);
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());

    std::string out;
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            out += row[i];
            if (i + 1 < row.size()) out.append(width[i] - row[i].size() + 2, ' ');
        }
        out += '\n';
    }
    return out;
}

std::optional<Snapshot> parse_status_json(const std::string& json) {
    Json doc;
    if (!JsonReader(json).document(doc) || doc.kind != Json::Object) return std::nullopt;
    const Json* state = doc.get("state");
    const Json* services = doc.get("services");
    if (!state || state->kind != Json::String || !services || services->kind != Json::Array)
        return std::nullopt;

    Snapshot s;
    s.state = state->s;
    s.shutting_down = s.state == "stopping";
    if (!read_number(doc, "uptime_seconds", s.uptime_seconds)) return std::nullopt;
    for (const Json& item : services->items) {
        ServiceSnapshot svc;
        if (!read_service(item, svc)) return std::nullopt;
        s.services.push_back(std::move(svc));
    }
    return s;
}

}  // namespace sv
