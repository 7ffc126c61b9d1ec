// The control socket's requests: see controller.h.
#include "controller.h"

#include <algorithm>
#include <limits>

#include "signals.h"
#include "status_render.h"

namespace sv {

namespace {

std::size_t display_width(std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// Why a service will not become ready, for "NAME: <this>".
std::string failure_text(const Service& s) {
    if (!s.last_error().empty()) return s.last_error();
    if (s.last_exit()) return s.last_exit()->describe();
    const char* reason = fail_reason_text(s.fail_reason());
    return *reason ? reason : state_name(s.state());
}

}  // namespace

struct Controller::Waiter {
    Controller* self;
    ControlServer::ConnId conn;
    ControlVerb verb;
    std::vector<std::size_t> ids;
    std::vector<std::string> names;
    std::vector<std::uint64_t> changes;  // per id, when the request came
    bool all = false;                    // `wait` without names
    std::string timeout_text;            // "30s", for the message
    ev_timer timer;
};

struct Controller::Reader {
    ControlServer::ConnId conn;
    LogCursor cursor;
    bool follow;
    std::map<std::size_t, std::string> prefixes;  // id -> "name | " (padded)
};

Controller::Controller(struct ev_loop* loop, Host& host)
    : loop_(loop), host_(host), server_(loop, *this) {}

Controller::~Controller() {
    for (auto& [conn, w] : waiters_) ev_timer_stop(loop_, &w->timer);
    waiters_.clear();
    readers_.clear();
    server_.close();
}

void Controller::on_request(ControlServer::ConnId conn, ControlRequest r) {
    switch (r.verb) {
        case ControlVerb::Status:
            status(conn, r);
            return;
        case ControlVerb::Logs:
            logs(conn, r);
            return;
        case ControlVerb::Shutdown:
            server_.finish(conn, 0, "shutting down");
            host_.supervisor().request_shutdown("a control client");
            host_.after_request();
            return;
        case ControlVerb::Reload: {
            ReloadSummary summary;
            std::string error;
            const int code = host_.reload(summary, error);
            if (code == 0) {
                server_.send(conn, ReplyKind::Data, summary.text());
                server_.finish(conn, 0, "");
            } else {
                server_.send(conn, ReplyKind::Message, error);
                server_.finish(conn, code,
                               code == 2 ? "the configuration is invalid; nothing was changed"
                                         : "nothing was changed");
            }
            host_.after_request();
            return;
        }
        case ControlVerb::Signal: {
            const auto sig = parse_signal(r.operands[0]);
            if (!sig) {
                server_.finish(conn, 2, "unknown signal '" + r.operands[0] + "'");
                return;
            }
            std::vector<std::size_t> ids;
            std::string error;
            const std::vector<std::string> names(r.operands.begin() + 1, r.operands.end());
            if (!host_.supervisor().find_services(names, ids, error)) {
                server_.finish(conn, 2, error);
                return;
            }
            if (!host_.supervisor().request_signal(ids, *sig, error)) {
                server_.finish(conn, 1, error);
                return;
            }
            server_.finish(conn, 0, "");
            return;
        }
        case ControlVerb::Start:
        case ControlVerb::Stop:
        case ControlVerb::Restart:
        case ControlVerb::Wait:
            act(conn, r);
            return;
    }
}

void Controller::status(ControlServer::ConnId conn, const ControlRequest& r) {
    Supervisor& sup = host_.supervisor();
    Snapshot snap = sup.snapshot(Clock::now());
    if (!r.operands.empty()) {
        std::vector<std::size_t> ids;
        std::string error;
        if (!sup.find_services(r.operands, ids, error)) {
            server_.finish(conn, 2, error);
            return;
        }
        std::vector<ServiceSnapshot> chosen;
        for (const std::string& name : r.operands)
            for (const ServiceSnapshot& s : snap.services)
                if (s.name == name) chosen.push_back(s);
        snap.services = std::move(chosen);
    }
    const std::string json = render_status_json(snap);
    std::string_view rest = json;
    while (!rest.empty()) {
        const std::size_t nl = rest.find('\n');
        server_.send(conn, ReplyKind::Data, rest.substr(0, nl));
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    }
    server_.finish(conn, 0, "");
}

void Controller::act(ControlServer::ConnId conn, const ControlRequest& r) {
    Supervisor& sup = host_.supervisor();
    auto w = std::make_unique<Waiter>();
    w->self = this;
    w->conn = conn;
    w->verb = r.verb;
    w->names = r.operands;
    std::string error;
    if (w->names.empty()) {  // `wait` without names: all of them
        w->all = true;
        for (const ServiceConfig& s : sup.config().services) w->names.push_back(s.name);
    }
    if (!sup.find_services(w->names, w->ids, error)) {
        server_.finish(conn, 2, error);
        return;
    }
    std::optional<Duration> timeout;
    if (auto it = r.options.find("timeout"); it != r.options.end()) {
        timeout = parse_duration(it->second);
        if (!timeout) {
            server_.finish(conn, 2, "invalid timeout '" + it->second + "'");
            return;
        }
        w->timeout_text = format_duration(*timeout);
    }
    for (std::size_t id : w->ids) w->changes.push_back(sup.find_id(id)->changes());
    bool ok = true;
    switch (r.verb) {
        case ControlVerb::Start:
            ok = sup.request_start(w->ids, error);
            break;
        case ControlVerb::Stop:
            ok = sup.request_stop(w->ids, error);
            break;
        case ControlVerb::Restart:
            ok = sup.request_restart(w->ids, error);
            break;
        default:
            break;
    }
    host_.after_request();
    if (!ok) {
        server_.finish(conn, 1, error);
        return;
    }
    if (auto it = r.options.find("wait"); it != r.options.end() && it->second == "no") {
        server_.finish(conn, 0, "");
        return;
    }
    if (settle(*w, false)) return;
    ev_init(&w->timer, on_timeout);
    w->timer.data = w.get();
    if (timeout) {
        ev_timer_set(&w->timer, static_cast<double>(timeout->count()) / 1000.0, 0.);
        ev_timer_start(loop_, &w->timer);
    }
    waiters_[conn] = std::move(w);
}

bool Controller::settle(Waiter& w, bool timed_out) {
    Supervisor& sup = host_.supervisor();
    std::vector<std::string> failed, pending;
    for (std::size_t k = 0; k < w.ids.size(); ++k) {
        const Service* s = sup.find_id(w.ids[k]);
        if (!s) {
            failed.push_back(w.names[k] + ": removed by a reload");
            continue;
        }
        const ServiceState st = s->state();
        const bool moved = s->changes() > w.changes[k];
        if (w.verb == ControlVerb::Stop) {
            if (!s->down()) pending.push_back(w.names[k]);
            continue;
        }
        const bool ready = w.all ? passes_readyz(st) : counts_as_ready(st);
        if (ready && (w.verb != ControlVerb::Restart || moved)) continue;
        if ((st == ServiceState::Failed || st == ServiceState::Exited) &&
            (moved || w.verb == ControlVerb::Wait)) {
            failed.push_back(w.names[k] + ": " + failure_text(*s));
            continue;
        }
        pending.push_back(w.names[k]);
    }
    if (!failed.empty()) {
        for (const std::string& f : failed) server_.send(w.conn, ReplyKind::Message, f);
        server_.finish(w.conn, 1, "");
        return true;
    }
    if (pending.empty()) {
        server_.finish(w.conn, 0, "");
        return true;
    }
    if (w.verb != ControlVerb::Stop && sup.shutting_down()) {
        server_.finish(w.conn, 1, "the supervisor is shutting down");
        return true;
    }
    if (timed_out) {
        for (const std::string& name : pending)
            server_.send(w.conn, ReplyKind::Message,
                         name +
                             (w.verb == ControlVerb::Stop ? ": still stopping after "
                                                          : ": not ready after ") +
                             w.timeout_text + " (--timeout)");
        server_.finish(w.conn, 1, "");
        return true;
    }
    return false;
}

void Controller::on_timeout(struct ev_loop*, ev_timer* t, int) noexcept {
    auto* w = static_cast<Waiter*>(t->data);
    Controller* self = w->self;
    const ControlServer::ConnId conn = w->conn;
    try {
        if (!self->server_.is_open(conn) || self->settle(*w, true))
            self->waiters_.erase(conn);  // `w` is gone
    } catch (...) {
        self->server_.finish(conn, 1, "internal error");
        self->waiters_.erase(conn);
    }
}

void Controller::check_waiters() {
    collect();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
        Waiter& w = *it->second;
        if (!server_.is_open(w.conn) || settle(w, false)) {
            ev_timer_stop(loop_, &w.timer);
            it = waiters_.erase(it);
        } else {
            ++it;
        }
    }
}

void Controller::logs(ControlServer::ConnId conn, const ControlRequest& r) {
    Supervisor& sup = host_.supervisor();
    std::vector<std::string> names = r.operands;
    if (names.empty())
        for (const ServiceConfig& s : sup.config().services) names.push_back(s.name);
    std::vector<std::size_t> ids;
    std::string error;
    if (!sup.find_services(names, ids, error)) {
        server_.finish(conn, 2, error);
        return;
    }
    std::size_t lines = std::numeric_limits<std::size_t>::max();
    if (auto it = r.options.find("lines"); it != r.options.end()) {
        const std::string& v = it->second;
        if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
            server_.finish(conn, 2, "invalid number of lines '" + v + "'");
            return;
        }
        lines = std::stoul(v);
    }
    const auto fit = r.options.find("follow");
    const bool follow = fit != r.options.end() && fit->second == "yes";
    std::size_t width = 0;
    for (std::size_t id : ids) width = std::max(width, display_width(sup.find_id(id)->name()));
    auto reader = std::make_unique<Reader>(
        Reader{conn, LogCursor(host_.logs(), ids, lines, !follow), follow, {}});
    for (std::size_t id : ids) {
        const Service& s = *sup.find_id(id);
        reader->prefixes[id] = s.name() + std::string(width - display_width(s.name()), ' ') + " | ";
        if (s.config().log != LogMode::Prefix)
            server_.send(conn, ReplyKind::Message,
                         s.name() + ": its output is not kept (log = \"" +
                             (s.config().log == LogMode::Inherit ? "inherit" : "null") + "\")");
    }
    Reader& ref = *reader;
    readers_[conn] = std::move(reader);
    pump(ref);
}

void Controller::pump(Reader& reader) {
    std::string text;
    std::size_t id = 0;
    while (server_.is_open(reader.conn) &&
           server_.buffered(reader.conn) < ControlServer::kMaxBuffered) {
        if (const std::uint64_t lost = reader.cursor.take_dropped())
            server_.send(reader.conn, ReplyKind::Data,
                         "-- " + std::to_string(lost) + " lines dropped --");
        text.clear();
        if (!reader.cursor.next(id, text)) {
            if (!reader.follow) {
                const ControlServer::ConnId conn = reader.conn;
                server_.finish(conn, 0, "");
                readers_.erase(conn);  // `reader` is gone
            }
            return;
        }
        server_.send(reader.conn, ReplyKind::Data, reader.prefixes[id] + text);
    }
}

void Controller::on_new_lines() {
    collect();
    for (auto it = readers_.begin(); it != readers_.end();) {
        auto next = std::next(it);
        pump(*it->second);  // may erase `it`
        it = next;
    }
}

void Controller::on_closed(ControlServer::ConnId conn) {
    closed_.push_back(conn);
}

void Controller::collect() {
    for (ControlServer::ConnId conn : closed_) {
        if (auto it = waiters_.find(conn); it != waiters_.end()) {
            ev_timer_stop(loop_, &it->second->timer);
            waiters_.erase(it);
        }
        readers_.erase(conn);
    }
    closed_.clear();
}

void Controller::on_drained(ControlServer::ConnId conn) {
    if (auto it = readers_.find(conn); it != readers_.end() && server_.is_open(conn))
        pump(*it->second);
}

}  // namespace sv
