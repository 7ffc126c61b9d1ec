// The dependency graph: start layers, dependents, cycles, stop-time
// arithmetic, DOT output and the `check` report.
#include "graph.h"

#include <gtest/gtest.h>

namespace sv {
namespace {

using std::chrono::milliseconds;
using Ids = std::vector<std::size_t>;

Config parse(std::string_view text) {
    return parse_config(text, "t.toml");
}

// A hand-built config, as single-command mode or other tests make them:
// "name:grace_ms:dep1,dep2" per service, no source positions.
Config make(std::initializer_list<const char*> specs) {
    Config c;
    c.file = "mem";
    for (std::string spec : specs) {
        ServiceConfig s;
        auto colon = spec.find(':');
        auto colon2 = spec.find(':', colon + 1);
        s.name = spec.substr(0, colon);
        s.stop_grace = milliseconds(std::stoll(spec.substr(colon + 1, colon2 - colon - 1)));
        std::string deps = colon2 == std::string::npos ? "" : spec.substr(colon2 + 1);
        for (std::size_t p = 0; !deps.empty();) {
            auto comma = deps.find(',', p);
            s.depends_on.push_back(deps.substr(p, comma - p));
            if (comma == std::string::npos) break;
            p = comma + 1;
        }
        s.argv = {"x"};
        c.services.push_back(s);
    }
    return c;
}

std::string error_of(const Config& c) {
    try {
        Graph g(c);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

constexpr const char* kStack = R"([services.db]
command = "x"
stop_grace = "10s"
[services.migrate]
command = "x"
type = "oneshot"
depends_on = ["db"]
[services.api]
command = "x"
depends_on = ["db", "migrate"]
stop_grace = "15s"
[services.worker]
command = "x"
depends_on = ["db"]
critical = false
stop_grace = "5s"
)";

TEST(GraphLayers, StartOrder) {
    Config c = parse(kStack);
    Graph g(c);
    ASSERT_EQ(g.size(), 4u);
    ASSERT_EQ(g.start_layers().size(), 3u);
    EXPECT_EQ(g.start_layers()[0], (Ids{0}));     // db
    EXPECT_EQ(g.start_layers()[1], (Ids{1, 3}));  // migrate, worker (file order)
    EXPECT_EQ(g.start_layers()[2], (Ids{2}));     // api
}

TEST(GraphLayers, LayerIsOnePlusDeepestDependency) {
    // d depends on a (layer 0) and c (layer 2): it goes to layer 3.
    Config c = make({"a:0", "b:0:a", "c:0:b", "d:0:a,c", "e:0"});
    Graph g(c);
    ASSERT_EQ(g.start_layers().size(), 4u);
    EXPECT_EQ(g.start_layers()[0], (Ids{0, 4}));
    EXPECT_EQ(g.start_layers()[1], (Ids{1}));
    EXPECT_EQ(g.start_layers()[2], (Ids{2}));
    EXPECT_EQ(g.start_layers()[3], (Ids{3}));
}

TEST(GraphLayers, DependenciesAndDependents) {
    Config c = parse(kStack);
    Graph g(c);
    EXPECT_EQ(g.dependencies(2), (Ids{0, 1}));
    EXPECT_EQ(g.dependencies(0), Ids{});
    EXPECT_EQ(g.dependents(0), (Ids{1, 2, 3}));  // file order
    EXPECT_EQ(g.dependents(1), (Ids{2}));
    EXPECT_EQ(g.dependents(2), Ids{});
}

TEST(GraphLayers, DuplicateEdgesInHandBuiltConfigCountOnce) {
    Config c = make({"a:0", "b:0:a,a"});
    Graph g(c);
    EXPECT_EQ(g.dependencies(1), (Ids{0}));
    EXPECT_EQ(g.dependents(0), (Ids{1}));
}

TEST(GraphCycles, PathStartsAtFirstServiceInFile) {
    // The walk starts at x, which only leads into the cycle; the printed
    // cycle starts at c, the first of its members in the file.
    EXPECT_EQ(error_of(make({"x:0:a", "c:0:a", "b:0:c", "a:0:b"})),
              "mem: dependency cycle: c -> a -> b -> c");
}

TEST(GraphCycles, TwoServicesAtTheFirstOnesEntry) {
    try {
        parse(R"([services.web]
command = "x"
depends_on = ["cache", "app"]
[services.app]
command = "x"
depends_on = ["web"]
[services.cache]
command = "x"
)");
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "t.toml:3:24: dependency cycle: web -> app -> web");
    }
}

TEST(GraphCycles, HandBuiltConfigUsesServicePosition) {
    Config c = make({"a:0:b", "b:0:a"});
    c.services[0].pos = {7, 1};
    EXPECT_EQ(error_of(c), "mem:7:1: dependency cycle: a -> b -> a");
}

TEST(GraphCycles, UnknownAndSelfDependencies) {
    EXPECT_EQ(error_of(make({"db:0", "api:0:dv"})),
              "mem: service 'api' depends on unknown service 'dv' (did you mean 'db'?)");
    EXPECT_EQ(error_of(make({"api:0:api"})),
              "mem: dependency cycle: api -> api (service 'api' depends on itself)");
}

TEST(GraphCycles, LongChainIsNotACycle) {
    // 2000 services in one chain: iterative algorithms, no deep recursion.
    Config c;
    for (int i = 0; i < 2000; ++i) {
        ServiceConfig s;
        s.name = "s" + std::to_string(i);
        s.argv = {"x"};
        s.stop_grace = milliseconds(1);
        if (i > 0) s.depends_on = {"s" + std::to_string(i - 1)};
        c.services.push_back(s);
    }
    c.supervisor.shutdown_timeout = milliseconds(1000000);
    Graph g(c);
    EXPECT_EQ(g.start_layers().size(), 2000u);
    EXPECT_EQ(g.worst_case_shutdown(c), milliseconds(2000));
    EXPECT_EQ(g.longest_stop_chain(c).size(), 2000u);
}

TEST(GraphShutdown, SumsStopGraceAlongTheLongestChain) {
    Config c = parse(kStack);
    Graph g(c);
    // api stops first, then migrate (api depends on it), then db: 15s + 10s
    // + 10s. worker 5s -> db 10s runs in parallel and is shorter.
    EXPECT_EQ(g.worst_case_shutdown(c), milliseconds(35000));
    EXPECT_EQ(g.longest_stop_chain(c), (Ids{2, 1, 0}));
}

TEST(GraphShutdown, AddsDrainDelay) {
    Config c = parse(std::string("supervisor.drain_delay = \"5s\"\n") + kStack);
    Graph g(c);
    EXPECT_EQ(g.worst_case_shutdown(c), milliseconds(40000));
}

TEST(GraphShutdown, CappedByShutdownTimeout) {
    Config c = parse(std::string("supervisor.drain_delay = \"5s\"\nsupervisor.shutdown_timeout = "
                                 "\"20s\"\n") +
                     kStack);
    Graph g(c);
    EXPECT_EQ(g.worst_case_shutdown(c), milliseconds(20000));
    c.supervisor.shutdown_timeout = milliseconds(40000);  // exactly the uncapped time
    EXPECT_EQ(g.worst_case_shutdown(c), milliseconds(40000));
}

TEST(GraphShutdown, DiamondTakesTheSlowerBranch) {
    // a depends on b and c; both depend on d. d waits for the slower of b, c.
    Config c = make({"d:1000", "b:2000:d", "c:5000:d", "a:1000:b,c"});
    Graph g(c);
    EXPECT_EQ(g.worst_case_shutdown(c), milliseconds(7000));
    EXPECT_EQ(g.longest_stop_chain(c), (Ids{3, 2, 0}));  // a -> c -> d
}

TEST(GraphShutdown, IndependentServicesStopInParallel) {
    Config c = make({"a:3000", "b:8000", "c:8000"});
    Graph g(c);
    EXPECT_EQ(g.worst_case_shutdown(c), milliseconds(8000));
    EXPECT_EQ(g.longest_stop_chain(c), (Ids{1}));  // tie: the earlier in the file
}

TEST(GraphDot, StableOutput) {
    Config c = parse(kStack);
    Graph g(c);
    EXPECT_EQ(g.dot(c),
              "digraph supervisor {\n"
              "    node [shape=box];\n"
              "    \"db\";\n"
              "    \"migrate\" [label=\"migrate\\n(oneshot)\", style=\"rounded\"];\n"
              "    \"api\";\n"
              "    \"worker\" [style=\"dashed\"];\n"
              "    \"migrate\" -> \"db\";\n"
              "    \"api\" -> \"db\";\n"
              "    \"api\" -> \"migrate\";\n"
              "    \"worker\" -> \"db\";\n"
              "}\n");
}

TEST(GraphDot, OneshotNotCriticalAndQuoting) {
    Config c = make({"a\"b:0"});
    c.services[0].type = ServiceType::Oneshot;
    c.services[0].critical = false;
    EXPECT_EQ(Graph(c).dot(c),
              "digraph supervisor {\n"
              "    node [shape=box];\n"
              "    \"a\\\"b\" [label=\"a\\\"b\\n(oneshot)\", style=\"rounded,dashed\"];\n"
              "}\n");
}

TEST(CheckReport, Layers) {
    Config c = parse(std::string("supervisor.drain_delay = \"5s\"\n") + kStack);
    EXPECT_EQ(format_check_report(c, Graph(c)),
              "t.toml: OK\n"
              "4 services\n"
              "start order:\n"
              "  1: db\n"
              "  2: migrate, worker\n"
              "  3: api\n"
              "worst-case shutdown: 40s (drain_delay 5s + stop_grace api 15s -> migrate 10s -> db "
              "10s)\n");
}

TEST(CheckReport, OneServiceAndCap) {
    Config c = parse(
        "[supervisor]\ndrain_delay = \"30s\"\nshutdown_timeout = \"35s\"\n[services.solo]\n"
        "command = \"x\"\n");
    EXPECT_EQ(
        format_check_report(c, Graph(c)),
        "t.toml: OK\n"
        "1 service\n"
        "start order:\n"
        "  1: solo\n"
        "worst-case shutdown: 35s (capped by shutdown_timeout; uncapped 40s = drain_delay 30s "
        "+ stop_grace solo 10s)\n");
}
}  // namespace
}  // namespace sv
