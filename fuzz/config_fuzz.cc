// libFuzzer target for the configuration loader (supervisor/core/config_load.cc
// and everything behind it: toml++, the typed readers, the dependency graph,
// the `check` report and the DOT output).
//
// A configuration file is the first thing a user hands the supervisor, and
// `check` and `run` must agree on it. The property: any input gives either a
// valid Config (which then builds a Graph, a check report and a DOT graph
// without trouble) or exactly one ConfigError whose text is one line in the
// shape "FILE:LINE:COLUMN: message" (or "FILE: message" without a position).
// Never a crash, a hang, or another exception.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config.h"
#include "graph.h"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

bool digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// "fuzz.toml:12:3: message" or "fuzz.toml: message", one line.
void check_message(const sv::ConfigError& e) {
    const std::string_view text = e.what();
    check(text.find('\n') == std::string_view::npos);
    check(!e.message().empty());
    if (e.pos().line > 0) {
        const std::string prefix = "fuzz.toml:" + std::to_string(e.pos().line) + ":" +
                                   std::to_string(e.pos().column) + ": ";
        check(text.substr(0, prefix.size()) == prefix);
        check(e.pos().column > 0);
    } else {
        check(text.substr(0, 11) == "fuzz.toml: ");
    }
    check(digits(std::to_string(e.pos().line)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const sv::Config config = sv::parse_config(text, "fuzz.toml");
        check(!config.services.empty());
        const sv::Graph graph(config);
        check(graph.size() == config.services.size());
        std::size_t placed = 0;
        for (const auto& layer : graph.start_layers()) placed += layer.size();
        check(placed == config.services.size());
        check(!sv::format_check_report(config, graph).empty());
        check(!graph.dot(config).empty());
        (void)graph.worst_case_shutdown(config);
    } catch (const sv::ConfigError& e) {
        check_message(e);
    }
    // Any other exception escapes and libFuzzer reports it as a crash.
    return 0;
}
