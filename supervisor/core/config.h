// The configuration model: plain structs filled from supervisor.toml.
//
// config_load.cc turns TOML (through toml++) into these structs and
// validates every key, type, duration and signal; graph.cc validates the
// dependencies. Any problem is a ConfigError carrying FILE:LINE:COLUMN, so
// the user can go straight to the spot. Nothing here touches the operating
// system: reading the file is os/config_file.h's job, and user and group
// names stay names until the OS layer looks them up when the run starts.
#pragma once

#include <csignal>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duration.h"
#include "resource_limits.h"

namespace sv {

struct SourcePos {
    int line = 0;  // 1-based; 0 = unknown (e.g. the file itself)
    int column = 0;
    bool operator==(const SourcePos&) const = default;
};

// A configuration error. what() is the full "FILE:LINE:COLUMN: message".
class ConfigError : public std::runtime_error {
  public:
    ConfigError(std::string file, SourcePos pos, std::string message);
    const std::string& file() const { return file_; }
    SourcePos pos() const { return pos_; }
    const std::string& message() const { return message_; }

  private:
    std::string file_;
    SourcePos pos_;
    std::string message_;
};

enum class ServiceType { Longrun, Oneshot };
enum class RestartPolicy { Never, OnFailure, Always };
enum class LogMode { Prefix, Inherit, Null };
enum class LogFormat { Text, Json };
enum class OnExit { Exit, Poweroff, Reboot };
enum class ProbeKind { None, Tcp, Http, Exec, Notify };
enum class SighupAction { Forward, Reload };

// An `env_file` entry: the path as written, resolved against the
// configuration file's folder, and where it was written (for messages).
struct EnvFile {
    std::string path;
    SourcePos pos;
    bool operator==(const EnvFile&) const = default;
};

// A [services.X.ready] or [services.X.health] section.
struct ProbeConfig {
    ProbeKind kind = ProbeKind::None;
    std::string address;            // tcp: "host:port"; http: the URL
    std::vector<std::string> argv;  // exec
    Duration interval{250};
    Duration timeout{1000};
    Duration start_timeout{60000};  // ready only
    int failures = 3;               // health only
    SourcePos pos;                  // of the section header
    bool operator==(const ProbeConfig&) const = default;
};

struct ServiceConfig {
    std::string name;
    SourcePos pos;  // of the [services.NAME] table

    std::vector<std::string> argv;  // a string command becomes {"/bin/sh", "-c", string}
    bool via_shell = false;
    std::vector<std::pair<std::string, std::string>> env;  // sorted by key
    // env_file, in list order; then the variables they set, read by the OS
    // layer when the configuration is loaded ([supervisor] env_file first,
    // then the service's, in order: later ones win).
    std::vector<EnvFile> env_files;
    std::vector<std::pair<std::string, std::string>> env_file_vars;
    std::string workdir;  // empty: inherit
    std::string user;     // empty: unchanged; name or number
    std::string group;

    ServiceType type = ServiceType::Longrun;
    std::vector<std::string> depends_on;
    std::vector<SourcePos> depends_on_pos;  // one per entry of depends_on

    int stop_signal = SIGTERM;
    Duration stop_grace{10000};

    RestartPolicy restart = RestartPolicy::Never;
    Duration restart_delay{100};
    Duration restart_delay_max{30000};
    int max_restarts = 0;  // 0 = unlimited
    bool critical = true;
    std::vector<int> success_codes{0};
    LogMode log = LogMode::Prefix;
    std::optional<unsigned> umask;  // e.g. 022; unset: the supervisor's
    std::vector<Limit> limits;      // setrlimit() before exec

    ProbeConfig ready;   // kind None: ready as soon as exec succeeded
    ProbeConfig health;  // kind None: no liveness probe

    // `run -c FILE -- COMMAND`'s COMMAND (single_command.h): it depends on
    // every other service, holds the terminal, and its status is the run's.
    bool main_command = false;

    bool is_success(int exit_code) const;
    bool operator==(const ServiceConfig&) const = default;
};

// The same service, as far as running it goes: every key equal, wherever in
// the file it was written (positions are not compared). A reload restarts a
// service whose definition is not the same.
bool same_definition(const ServiceConfig& a, const ServiceConfig& b);

struct SupervisorConfig {
    std::string health_listen = "127.0.0.1:9180";  // "" turns the endpoint off
    Duration drain_delay{0};
    Duration shutdown_timeout{60000};
    LogFormat log_format = LogFormat::Text;
    OnExit on_exit = OnExit::Exit;
    std::string control_socket = "auto";  // "auto", a path, or "" (off)
    std::string control_group;            // members may use it too (mode 0660)
    SighupAction sighup = SighupAction::Forward;
    std::vector<EnvFile> env_files;  // for every service, below their own
    // The variables they set, read with the services' (config_file.h); the
    // main command (single_command.h) gets these and nothing else.
    std::vector<std::pair<std::string, std::string>> env_file_vars;
    std::string hostname;  // set as the machine's init; "" leaves it
};

struct Config {
    std::string file;  // as given, used in messages
    SupervisorConfig supervisor;
    std::vector<ServiceConfig> services;  // in the order they appear in the file

    // Index of the service with this name, or -1.
    int find(std::string_view name) const;
};

// Parses and validates TOML text. `file` names the source in messages.
// Also validates dependencies (unknown names, cycles) through graph.h.
// Throws ConfigError.
Config parse_config(std::string_view text, const std::string& file);

}  // namespace sv
