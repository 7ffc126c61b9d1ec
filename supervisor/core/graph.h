// The dependency graph of the services in a Config.
//
// Edges point from a service to the services it depends on. Start order is a
// topological layering: layer 0 holds services with no dependencies, layer k
// the services whose deepest dependency is in layer k-1; services in one layer
// may start in parallel. Stop order is the reverse: a service stops only after
// all its dependents have exited. The worst-case shutdown time is
// drain_delay + the longest path of stop_grace values through the graph,
// capped by shutdown_timeout.
#pragma once

#include <string>
#include <vector>

#include "config.h"

namespace sv {

class Graph {
  public:
    // Throws ConfigError on an unknown dependency (at the entry's position)
    // or a cycle (printed as its path, "a -> b -> c -> a").
    explicit Graph(const Config& config);

    std::size_t size() const { return deps_.size(); }
    const std::vector<std::size_t>& dependencies(std::size_t i) const { return deps_[i]; }
    const std::vector<std::size_t>& dependents(std::size_t i) const { return rdeps_[i]; }

    // Services grouped by start layer; within a layer, in file order.
    const std::vector<std::vector<std::size_t>>& start_layers() const { return layers_; }

    // drain_delay + longest chain of stop_grace, capped by shutdown_timeout.
    Duration worst_case_shutdown(const Config& config) const;

    // The chain behind worst_case_shutdown(), in stop order: the first
    // service stops first, the last one stops after all the others in the
    // chain ({api, db} when api depends on db). Ties go to the service
    // earlier in the file.
    std::vector<std::size_t> longest_stop_chain(const Config& config) const;

    // Graphviz DOT; edges go from dependent to dependency.
    std::string dot(const Config& config) const;

  private:
    std::vector<std::vector<std::size_t>> deps_;
    std::vector<std::vector<std::size_t>> rdeps_;
    std::vector<std::vector<std::size_t>> layers_;
};

// The text `supervisor check` prints on success: file, number of
// services, start layers, worst-case shutdown time and the chain behind it.
// Pure, so the unit tests can compare it to a golden file.
std::string format_check_report(const Config& config, const Graph& graph);

}  // namespace sv
