// Pure renderers of a status Snapshot.
//
// Every view of the supervisor's state that leaves the process is built
// here from one plain value, so that /status, /metrics, /readyz?verbose and
// `supervisor status` can never disagree, and each is a unit test away.
//
// Numbers: /status reports whole seconds (what a human or a probe script
// compares), /metrics keeps milliseconds (Prometheus values are floats).
#include "status_render.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "json.h"
#include "service_state.h"
#include "signals.h"

namespace sv {

namespace {

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

}  // namespace

bool Snapshot::all_ready() const {
    if (shutting_down) return false;
    for (const ServiceSnapshot& svc : services)
        if (!svc.passes_readyz) return false;
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
        for (ServiceState state : kAllStates) {
            const char* st = state_name(state);
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
        if (svc.ready)
            out += "[+]" + svc.name + " ok\n";
        else if (svc.passes_readyz)
            out += "[+]" + svc.name + " stopped by request\n";
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

}  // namespace sv
