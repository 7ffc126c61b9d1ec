// The endpoint's routes: see endpoint.h.
#include "endpoint.h"

#include "status_render.h"

namespace sv {

namespace {

constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPrometheus = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kAllowGetHead = "Allow: GET, HEAD\r\n";

HttpAnswer text(int status, std::string body) {
    return HttpAnswer{status, kTextPlain, std::move(body), {}};
}

HttpAnswer method_not_allowed() {
    return HttpAnswer{405, kTextPlain, "method not allowed\n", kAllowGetHead};
}

HttpAnswer readiness(const HttpRequest& r, std::string_view path, StatusSource& source) {
    const std::string endpoint = path.starts_with("/readyz") ? "readyz" : "healthz";
    const std::size_t slash = path.find('/', 1);
    if (slash != std::string_view::npos) {
        // One check, as the apiserver's /readyz/etcd: /readyz/db.
        const std::string_view name = path.substr(slash + 1);
        const Snapshot snap = source.snapshot();
        for (const ServiceSnapshot& svc : snap.services) {
            if (svc.name != name) continue;
            // While draining every readiness answer is 503, so a load
            // balancer probing one service drains it too.
            if (!snap.shutting_down && svc.ready) return text(200, "ok\n");
            return text(503, "[-]" + svc.name + " not ready: " +
                                 (snap.shutting_down ? std::string("shutting down") : svc.state) +
                                 "\n");
        }
        return text(404, "no such service\n");
    }
    const bool verbose = query_flag(r.query, "verbose");
    // The fast path (probes, benchmarks): one boolean, no snapshot.
    if (!verbose && source.all_ready()) return text(200, "ok\n");
    const Snapshot snap = source.snapshot();
    const bool ok = snap.all_ready();
    // A failure lists every check, as the apiserver does.
    return text(ok ? 200 : 503, verbose || !ok ? render_ready_verbose(snap, endpoint) : "ok\n");
}

}  // namespace

bool query_flag(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view param = query.substr(0, amp);
        const std::size_t eq = param.find('=');
        if (param.substr(0, eq) == name) {
            const std::string_view v = eq == std::string_view::npos ? "" : param.substr(eq + 1);
            return v != "0" && v != "false" && v != "no" && v != "off";
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return false;
}

HttpAnswer answer_request(const HttpRequest& r, StatusSource& source) {
    if (r.method != "GET" && r.method != "HEAD") return method_not_allowed();
    const std::string_view path = r.path;
    if (path == "/livez") return text(200, "ok\n");
    if (path == "/readyz" || path.starts_with("/readyz/") || path == "/healthz" ||
        path.starts_with("/healthz/"))
        return readiness(r, path, source);
    if (path == "/status") return HttpAnswer{200, kJson, render_status_json(source.snapshot()), {}};
    if (path == "/metrics")
        return HttpAnswer{200, kPrometheus, render_metrics(source.snapshot()), {}};
    return text(404, "not found\n");
}

HttpAnswer answer_parse_error(ParseStatus status, const HttpRequest& partial) {
    if (status == ParseStatus::TooLarge) return text(431, "request header fields too large\n");
    if (partial.has_body && partial.method != "GET" && partial.method != "HEAD")
        return method_not_allowed();
    return text(400, "bad request\n");
}

HttpAnswer answer_internal_error() {
    return text(500, "internal server error\n");
}

const char* reason_phrase(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 503:
            return "Service Unavailable";
        default:
            return "Unknown";
    }
}

}  // namespace sv
