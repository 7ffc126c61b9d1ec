// The `supervisor check` report for supervisor.toml.example, compared with a
// golden file. The example is what users copy first, so it must stay valid,
// and the report is what they see first, so a change to it must be
// deliberate: update tests/unit/data/check_example.golden along with it.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "graph.h"

namespace sv {
namespace {

std::string read(const std::string& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in) << path;
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

TEST(CheckGolden, ExampleConfiguration) {
    // Named as the README runs it, so the report's first line is stable.
    Config c = parse_config(read(std::string(SOURCE_DIR) + "/supervisor.toml.example"),
                            "supervisor.toml.example");
    EXPECT_EQ(format_check_report(c, Graph(c)),
              read(std::string(TEST_DATA_DIR) + "/check_example.golden"));
}

TEST(CheckGolden, ExampleDot) {
    Config c = parse_config(read(std::string(SOURCE_DIR) + "/supervisor.toml.example"),
                            "supervisor.toml.example");
    EXPECT_EQ(Graph(c).dot(c), read(std::string(TEST_DATA_DIR) + "/graph_example.golden"));
}

}  // namespace
}  // namespace sv
