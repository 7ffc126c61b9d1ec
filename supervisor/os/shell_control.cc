// The Shell's dealings with the configuration after start: the context of
// each service, the names the OS layer keys things by, the health endpoint
// and control socket (which a reload may move), and reload itself.
#include <grp.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "config_file.h"
#include "identity_lookup.h"
#include "name_service.h"
#include "shell_internal.h"

extern char** environ;

namespace sv {

namespace {

// environ, viewed: Environment copies each variable once, into one block.
std::vector<std::string_view> current_environment() {
    std::vector<std::string_view> env;
    for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
    return env;
}

// The gid of `group` (a name or a number), or nullopt with `error` set.
std::optional<gid_t> group_id(const std::string& group, std::string& error) {
    std::uint32_t number = 0;
    if (parse_id(group, &number) == IdParse::Number) return static_cast<gid_t>(number);
    prepare_name_service();
    if (const struct group* gr = ::getgrnam(group.c_str())) return gr->gr_gid;
    error = "unknown group '" + group + "'";
    return std::nullopt;
}

// The output pipes a configuration's services have at most: two for each
// that logs in prefix mode.
std::size_t output_pipes(const Config& config) {
    std::size_t pipes = 0;
    for (const ServiceConfig& s : config.services)
        if (s.log == LogMode::Prefix) pipes += 2;
    return pipes;
}

}  // namespace

RunContext Shell::make_context(const Config& config) {
    RunContext c;
    c.inherited_limits = options_.inherited_limits;
    c.pid1 = ::getpid() == 1;
    const std::vector<std::string_view> env = current_environment();
    c.base_env = Environment(env);
    c.setups.resize(config.services.size());
    for (std::size_t i = 0; i < config.services.size(); ++i) {
        const ServiceConfig& s = config.services[i];
        ServiceSetup& setup = c.setups[i];
        setup.identity = lookup_identity(s);
        if (s.ready.kind == ProbeKind::Notify) {
            std::string err;
            setup.notify_socket = notify_.open(s.name, err);
            if (setup.notify_socket.empty())
                setup.error = "cannot create the notify socket: " + err;
        }
    }
    return c;
}

void Shell::follow_services() {
    std::vector<std::string> names;
    std::size_t width = 0;
    for (const Service& s : supervisor_.services()) {
        if (s.id() >= names.size()) names.resize(s.id() + 1);
        names[s.id()] = s.name();
    }
    for (const ServiceConfig& s : supervisor_.config().services)
        width = std::max(width, s.name.size());
    output_.set_service_names(names, width);
    output_.expect_pipes(output_pipes(supervisor_.config()));
    std::vector<std::string> configured;
    for (const ServiceConfig& s : supervisor_.config().services) configured.push_back(s.name);
    notify_.keep_only(configured);
    if (options_.mode == RunMode::Config) {
        control_setting_ = options_.control_socket.value_or(config_.supervisor.control_socket);
        control_group_ = config_.supervisor.control_group;
    } else {
        control_setting_ = options_.control_socket.value_or("");
    }
}

std::string Shell::listen_http(const std::string& address) {
    http_.reset();
    http_address_ = address;
    if (address.empty()) return "";
    auto http = std::make_unique<HttpServer>(loop_, *this);
    const std::string err = http->listen(address);
    if (!err.empty()) return err;
    http_ = std::move(http);
    return "";
}

bool Shell::listen_control(const std::string& setting, const std::string& group) {
    control_.reset();
    if (setting.empty()) return true;
    const std::string path = control_socket_path(setting);
    std::string error = prepare_socket_dir(path);
    std::optional<gid_t> gid;
    if (error.empty() && !group.empty()) gid = group_id(group, error);
    if (error.empty()) {
        auto control = std::make_unique<Controller>(loop_, *this);
        bool live = false;
        error = control->server().listen(path, gid, live);
        if (live) {
            std::fprintf(stderr, "supervisor: %s\n", error.c_str());
            return false;
        }
        if (error.empty()) {
            control_ = std::move(control);
            return true;
        }
    }
    // Keep running without it, as without the endpoint: the services matter more.
    logger_.log(Level::Error, "", "control", error + " (the control socket is off)");
    return true;
}

int Shell::reload(ReloadSummary& summary, std::string& error) {
    if (options_.mode != RunMode::Config) {
        error = "nothing to reload: single-command mode has no configuration file";
        return 1;
    }
    if (supervisor_.shutting_down()) {
        error = "cannot reload: the supervisor is shutting down";
        return 1;
    }
    Config next;
    try {
        next = load_config_file(options_.config_path);
    } catch (const ConfigError& e) {
        error = e.what();
        logger_.log(Level::Error, "", "reload_failed",
                    std::string(e.what()) + " (the configuration was not reloaded)");
        return 2;
    }
    if (options_.health_listen) next.supervisor.health_listen = *options_.health_listen;
    if (options_.log_format) next.supervisor.log_format = *options_.log_format;
    // The main command comes from the command line, not the file: it stays.
    for (const ServiceConfig& s : config_.services) {
        if (!s.main_command) continue;
        if (next.find(s.name) >= 0) {
            error = "cannot reload: " + next.file + " has a service named '" + s.name +
                    "', the main command's name";
            return 2;
        }
        next.services.push_back(s);
    }
    RunContext context = make_context(next);
    // The reload starts the services it adds: their pipes by its numbers.
    output_.expect_pipes(output_pipes(next));
    if (!supervisor_.reload(next, context, summary, error)) {
        output_.expect_pipes(output_pipes(config_));
        return 1;
    }
    const SupervisorConfig old = config_.supervisor;
    config_ = std::move(next);
    context_.setups = std::move(context.setups);
    follow_services();
    logger_.set_format(config_.supervisor.log_format);
    output_.set_shared_destinations(
        std::any_of(config_.services.begin(), config_.services.end(),
                    [](const ServiceConfig& s) { return s.log == LogMode::Inherit; }));
    if (config_.supervisor.health_listen != http_address_) {
        const std::string err = listen_http(config_.supervisor.health_listen);
        if (!err.empty())
            logger_.log(Level::Error, "", "http", err + " (the health endpoint is off)");
    }
    if (old.control_socket != config_.supervisor.control_socket ||
        old.control_group != config_.supervisor.control_group) {
        // The request that asked for this reload is answered on the old
        // socket before it closes: move it from the loop, not from here.
        logger_.log(Level::Info, "", "control",
                    "the control socket moves to " + (control_setting_.empty()
                                                          ? std::string("nowhere (off)")
                                                          : control_socket_path(control_setting_)));
        ev_once(
            loop_, -1, 0, 0.,
            [](int, void* arg) {
                auto* self = static_cast<Shell*>(arg);
                (void)self->listen_control(self->control_setting_, self->control_group_);
            },
            this);
    }
    return 0;
}

void Shell::reload_on_signal() {
    ReloadSummary summary;
    std::string error;
    logger_.log(Level::Info, "", "reload", "received SIGHUP, reloading the configuration");
    if (reload(summary, error) == 1) logger_.log(Level::Error, "", "reload_failed", error);
}

}  // namespace sv
