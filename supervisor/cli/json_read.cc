// The /status reader: see json_read.h.
#include "json_read.h"

#include <charconv>
#include <limits>
#include <string_view>
#include <vector>

#include "signals.h"

namespace sv {

namespace {

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
    svc.passes_readyz = svc.ready || svc.state == "stopped";
    return true;
}

}  // namespace

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
