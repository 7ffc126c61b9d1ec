// The dependency graph: validation, start layers, stop-time arithmetic, DOT.
//
// Everything here is computed once from a Config and is plain data
// afterwards, so the lifecycle engine, `check` and `graph` all see the same
// answer. Algorithms are iterative (Kahn's layering, a walk for the cycle
// path, a pass over the layers in reverse for stop times) rather than
// recursive: a generated configuration with a long chain must not be able to
// overflow the stack of PID 1.
//
// The numbers follow docs/lifecycle.md. A service starts when all its dependencies are
// up, so its start layer is 1 + the deepest dependency's layer. It stops only
// after all its dependents have exited, each taking up to its stop_grace, so
// the time until service i is gone is stop_grace(i) plus the latest finish
// among its dependents; the worst case of the whole shutdown is drain_delay
// plus the largest of those, capped by shutdown_timeout.
#include "graph.h"

#include <algorithm>

#include "suggest.h"

namespace sv {

namespace {

SourcePos dependency_pos(const ServiceConfig& s, std::size_t k) {
    return k < s.depends_on_pos.size() ? s.depends_on_pos[k] : s.pos;
}

// finish[i]: worst-case time from the start of the stop phase until service
// i has exited. next[i]: the dependent whose exit i waits for last (i itself
// when it has none), so following next[] walks the longest chain backwards.
void stop_times(const Config& config, const Graph& graph, std::vector<Duration>& finish,
                std::vector<std::size_t>& next) {
    finish.assign(graph.size(), Duration(0));
    next.resize(graph.size());
    const auto& layers = graph.start_layers();
    // Dependents are always in a later layer, so walking the layers from the
    // last to the first sees every dependent before its dependency.
    for (auto layer = layers.rbegin(); layer != layers.rend(); ++layer) {
        for (std::size_t i : *layer) {
            next[i] = i;
            Duration latest(0);
            for (std::size_t d : graph.dependents(i)) {
                if (finish[d] > latest) {
                    latest = finish[d];
                    next[i] = d;
                }
            }
            finish[i] = latest + config.services[i].stop_grace;
        }
    }
}

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

}  // namespace

Graph::Graph(const Config& config) {
    const std::size_t n = config.services.size();
    deps_.resize(n);
    rdeps_.resize(n);

    for (std::size_t i = 0; i < n; ++i) {
        const ServiceConfig& s = config.services[i];
        for (std::size_t k = 0; k < s.depends_on.size(); ++k) {
            const std::string& name = s.depends_on[k];
            if (name == s.name)
                throw ConfigError(config.file, dependency_pos(s, k),
                                  "dependency cycle: " + s.name + " -> " + s.name + " (service '" +
                                      s.name + "' depends on itself)");
            int j = config.find(name);
            if (j < 0) {
                std::vector<std::string_view> others;
                for (const ServiceConfig& other : config.services)
                    if (other.name != s.name) others.push_back(other.name);
                throw ConfigError(config.file, dependency_pos(s, k),
                                  "service '" + s.name + "' depends on unknown service '" + name +
                                      "'" + did_you_mean(name, others));
            }
            auto dep = static_cast<std::size_t>(j);
            if (std::find(deps_[i].begin(), deps_[i].end(), dep) == deps_[i].end())
                deps_[i].push_back(dep);
        }
    }
    // The main command starts after every service is up and stops before
    // any of them: it depends on all of them.
    for (std::size_t i = 0; i < n; ++i) {
        if (!config.services[i].main_command) continue;
        deps_[i].clear();
        for (std::size_t j = 0; j < n; ++j)
            if (j != i) deps_[i].push_back(j);
    }
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j : deps_[i]) rdeps_[j].push_back(i);  // dependents in file order

    // Kahn's algorithm: a service is placed once all its dependencies are.
    std::vector<std::size_t> layer(n, 0), missing(n);
    std::vector<std::size_t> queue;
    for (std::size_t i = 0; i < n; ++i) {
        missing[i] = deps_[i].size();
        if (missing[i] == 0) queue.push_back(i);
    }
    for (std::size_t head = 0; head < queue.size(); ++head) {
        std::size_t i = queue[head];
        for (std::size_t d : rdeps_[i]) {
            layer[d] = std::max(layer[d], layer[i] + 1);
            if (--missing[d] == 0) queue.push_back(d);
        }
    }

    if (queue.size() < n) {
        // Every service left over still misses a dependency that is itself
        // left over, so following the first such dependency from any of them
        // must come back to a service already seen: that loop is a cycle.
        std::size_t cur = 0;
        while (missing[cur] == 0) ++cur;
        std::vector<std::size_t> path;
        std::vector<bool> seen(n, false);
        while (!seen[cur]) {
            seen[cur] = true;
            path.push_back(cur);
            for (std::size_t d : deps_[cur]) {
                if (missing[d] > 0) {
                    cur = d;
                    break;
                }
            }
        }
        std::vector<std::size_t> cycle(std::find(path.begin(), path.end(), cur), path.end());
        // Start the printed cycle at the service that comes first in the
        // file, so the message does not depend on where the walk began.
        std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
        std::string text;
        for (std::size_t i : cycle) text += config.services[i].name + " -> ";
        text += config.services[cycle[0]].name;

        const ServiceConfig& first = config.services[cycle[0]];
        const std::string& second = config.services[cycle.size() > 1 ? cycle[1] : cycle[0]].name;
        auto k = std::find(first.depends_on.begin(), first.depends_on.end(), second) -
                 first.depends_on.begin();
        throw ConfigError(config.file, dependency_pos(first, static_cast<std::size_t>(k)),
                          "dependency cycle: " + text);
    }

    for (std::size_t i = 0; i < n; ++i) {
        if (layers_.size() <= layer[i]) layers_.resize(layer[i] + 1);
        layers_[layer[i]].push_back(i);
    }
}

Duration Graph::worst_case_shutdown(const Config& config) const {
    std::vector<Duration> finish;
    std::vector<std::size_t> next;
    stop_times(config, *this, finish, next);
    Duration longest(0);
    for (Duration f : finish) longest = std::max(longest, f);
    return std::min(config.supervisor.drain_delay + longest, config.supervisor.shutdown_timeout);
}

std::vector<std::size_t> Graph::longest_stop_chain(const Config& config) const {
    std::vector<Duration> finish;
    std::vector<std::size_t> next;
    stop_times(config, *this, finish, next);
    if (finish.empty()) return {};
    std::size_t last = 0;  // the service that exits last: the end of the chain
    for (std::size_t i = 1; i < finish.size(); ++i)
        if (finish[i] > finish[last]) last = i;
    std::vector<std::size_t> chain{last};
    while (next[chain.back()] != chain.back()) chain.push_back(next[chain.back()]);
    std::reverse(chain.begin(), chain.end());
    return chain;
}

std::string Graph::dot(const Config& config) const {
    // Boxes for longruns, rounded boxes marked "(oneshot)" for oneshots,
    // dashed outlines for services that are not critical. Nodes and edges in
    // file order, so the output is stable and diffs well.
    std::string out = "digraph supervisor {\n    node [shape=box];\n";
    for (const ServiceConfig& s : config.services) {
        std::vector<std::string> attrs;
        std::vector<std::string> styles;
        if (s.type == ServiceType::Oneshot) {
            std::string label = quoted(s.name);
            label.insert(label.size() - 1, "\\n(oneshot)");  // DOT's line break, not escaped
            attrs.push_back("label=" + label);
            styles.push_back("rounded");
        }
        if (!s.critical) styles.push_back("dashed");
        if (!styles.empty()) {
            std::string style;
            for (const auto& st : styles) style += (style.empty() ? "" : ",") + st;
            attrs.push_back("style=" + quoted(style));
        }
        out += "    " + quoted(s.name);
        if (!attrs.empty()) {
            out += " [";
            for (std::size_t a = 0; a < attrs.size(); ++a) out += (a ? ", " : "") + attrs[a];
            out += "]";
        }
        out += ";\n";
    }
    for (std::size_t i = 0; i < deps_.size(); ++i)
        for (std::size_t j : deps_[i])
            out += "    " + quoted(config.services[i].name) + " -> " +
                   quoted(config.services[j].name) + ";\n";
    return out + "}\n";
}

std::string format_check_report(const Config& config, const Graph& graph) {
    const std::size_t n = config.services.size();
    std::string out = config.file + ": OK\n";
    out += std::to_string(n) + (n == 1 ? " service\n" : " services\n");
    out += "start order:\n";
    const auto& layers = graph.start_layers();
    for (std::size_t l = 0; l < layers.size(); ++l) {
        out += "  " + std::to_string(l + 1) + ": ";
        for (std::size_t k = 0; k < layers[l].size(); ++k)
            out += (k ? ", " : "") + config.services[layers[l][k]].name;
        out += "\n";
    }

    // "drain_delay 5s + stop_grace api 10s -> db 10s": how the number came about.
    Duration uncapped = config.supervisor.drain_delay;
    std::string how =
        "drain_delay " + format_duration(config.supervisor.drain_delay) + " + stop_grace ";
    const std::vector<std::size_t> chain = graph.longest_stop_chain(config);
    for (std::size_t k = 0; k < chain.size(); ++k) {
        const ServiceConfig& s = config.services[chain[k]];
        how += (k ? " -> " : "") + s.name + " " + format_duration(s.stop_grace);
        uncapped += s.stop_grace;
    }
    const Duration worst = graph.worst_case_shutdown(config);
    out += "worst-case shutdown: " + format_duration(worst);
    if (worst < uncapped)
        out += " (capped by shutdown_timeout; uncapped " + format_duration(uncapped) + " = " + how +
               ")\n";
    else
        out += " (" + how + ")\n";
    return out;
}

}  // namespace sv
