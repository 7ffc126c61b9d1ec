// The supervisor's own messages (docs/logging.md): one line each, on stderr, either
// as text ("supervisor: api: exited with status 3") or as JSON lines
// ({"time": …, "level": …, "service": …, "event": …, …fields, "message": …}).
//
// The Logger is pure: it formats and hands the line to a sink. The shell
// plugs in a sink that shares stderr's buffer with the service output, so
// the supervisor's lines interleave with service lines only at line
// boundaries, and a wall clock for the JSON "time" field.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.h"

namespace sv {

enum class Level { Debug, Info, Warn, Error };

// One extra field of a message. Numbers are written unquoted in JSON.
struct Field {
    std::string key;
    std::string value;
    bool number = false;
};

inline Field num(const char* key, long long v) {
    return Field{key, std::to_string(v), true};
}
inline Field str(const char* key, std::string v) {
    return Field{key, std::move(v), false};
}

class Logger {
  public:
    using Sink = std::function<void(std::string line)>;  // one line, with '\n'
    using WallClock = std::function<std::string()>;      // RFC 3339 UTC time

    Logger(Sink sink, WallClock clock, LogFormat format = LogFormat::Text);

    void set_format(LogFormat f) { format_ = f; }  // a reload may change it
    // Messages below this level are dropped (single-command mode keeps quiet like tini).
    void set_min_level(Level l) { min_level_ = l; }

    // `service` may be empty for supervisor-wide messages. `event` is a short
    // machine-readable word ("started", "exited"); `text` the human sentence.
    void log(Level level, std::string_view service, std::string_view event, std::string_view text,
             const std::vector<Field>& fields = {});

    // Formatting, exposed for tests.
    std::string format_line(Level level, std::string_view service, std::string_view event,
                            std::string_view text, const std::vector<Field>& fields) const;

  private:
    Sink sink_;
    WallClock clock_;
    LogFormat format_;
    Level min_level_ = Level::Debug;
};

}  // namespace sv
