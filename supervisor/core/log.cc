#include "log.h"

#include "json.h"

namespace sv {

namespace {

const char* level_name(Level l) {
    switch (l) {
        case Level::Debug:
            return "debug";
        case Level::Info:
            return "info";
        case Level::Warn:
            return "warn";
        case Level::Error:
            return "error";
    }
    return "info";
}

}  // namespace

Logger::Logger(Sink sink, WallClock clock, LogFormat format)
    : sink_(std::move(sink)), clock_(std::move(clock)), format_(format) {}

void Logger::log(Level level, std::string_view service, std::string_view event,
                 std::string_view text, const std::vector<Field>& fields) {
    if (level < min_level_ || !sink_) return;
    sink_(format_line(level, service, event, text, fields));
}

std::string Logger::format_line(Level level, std::string_view service, std::string_view event,
                                std::string_view text, const std::vector<Field>& fields) const {
    std::string line;
    if (format_ == LogFormat::Json) {
        line += "{\"time\":" + json_quote(clock_ ? clock_() : std::string());
        line += ",\"level\":" + json_quote(level_name(level));
        if (!service.empty()) line += ",\"service\":" + json_quote(service);
        line += ",\"event\":" + json_quote(event);
        for (const Field& f : fields) {
            line += "," + json_quote(f.key) + ":" + (f.number ? f.value : json_quote(f.value));
        }
        line += ",\"message\":" + json_quote(text) + "}\n";
        return line;
    }
    line = "supervisor: ";
    if (level == Level::Warn) line += "warning: ";
    if (level == Level::Error) line += "error: ";
    if (!service.empty()) {
        line.append(service);
        line += ": ";
    }
    line.append(text);
    line += '\n';
    return line;
}

}  // namespace sv
