// FakeSys: the OS seam for unit tests (after dinit's test bp_sys). It records
// every call the core makes (spawns, group signals, sweeps, probes) and lets a
// test move a fake clock; nothing forks.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config.h"
#include "graph.h"
#include "log.h"
#include "supervisor.h"
#include "sys.h"

namespace sv::test {

struct KillCall {
    Pid pgid;
    int sig;
    bool operator==(const KillCall&) const = default;
};

class FakeSys : public Sys {
  public:
    TimePoint now() const override { return now_; }
    void advance(Duration d) { now_ += d; }

    SpawnResult spawn(std::size_t index, const SpawnPlan& plan) override {
        if (fail_next_spawn_errno) {
            SpawnResult r;
            r.error = fail_next_spawn_errno;
            fail_next_spawn_errno = 0;
            return r;
        }
        const Pid pid = next_pid_++;
        spawned.push_back(index);
        spawned_foreground.push_back(plan.foreground);
        plans.push_back(plan);
        pid_of[index] = pid;
        alive_groups.insert(pid);
        return SpawnResult{pid, 0, {}, {}};
    }
    void kill_group(Pid pgid, int sig) override { kills.push_back({pgid, sig}); }
    bool group_alive(Pid pgid) override { return alive_groups.count(pgid) != 0; }
    void sweep(int sig) override { sweeps.push_back(sig); }
    bool has_children() override { return children_left; }
    void start_probe(std::size_t index, ProbeRole role, const ProbeConfig&) override {
        probes_running.insert({index, role});
        probe_starts.push_back({index, role});
    }
    void stop_probe(std::size_t index, ProbeRole role) override {
        probes_running.erase({index, role});
    }

    // Signals sent to one group, in order.
    std::vector<int> signals_to(Pid pgid) const {
        std::vector<int> out;
        for (const auto& k : kills)
            if (k.pgid == pgid) out.push_back(k.sig);
        return out;
    }

    std::vector<std::size_t> spawned;
    std::vector<bool> spawned_foreground;
    std::vector<SpawnPlan> plans;
    std::map<std::size_t, Pid> pid_of;  // latest pid per service
    std::set<Pid> alive_groups;
    std::vector<KillCall> kills;
    std::vector<int> sweeps;
    bool children_left = false;
    std::set<std::pair<std::size_t, ProbeRole>> probes_running;
    std::vector<std::pair<std::size_t, ProbeRole>> probe_starts;
    int fail_next_spawn_errno = 0;

  private:
    TimePoint now_{std::chrono::seconds(1000)};
    Pid next_pid_ = 100;
};

// A Config built in code, one service per add().
class ConfigBuilder {
  public:
    ServiceConfig& add(const std::string& name, std::vector<std::string> deps = {}) {
        ServiceConfig s;
        s.name = name;
        s.argv = {"/bin/" + name};
        s.depends_on = std::move(deps);
        s.depends_on_pos.resize(s.depends_on.size());
        config.services.push_back(std::move(s));
        return config.services.back();
    }
    // A service that is ready once 127.0.0.1:5432 accepts (a database).
    ServiceConfig& add_tcp_ready(const std::string& name, std::vector<std::string> deps = {}) {
        ServiceConfig& s = add(name, std::move(deps));
        s.ready.kind = ProbeKind::Tcp;
        s.ready.address = "127.0.0.1:5432";
        return s;
    }
    Config config;
};

// Everything a core test needs: config, graph, fake OS, captured log.
struct Harness {
    explicit Harness(Config c, RunMode mode = RunMode::Config, RunContext context = {})
        : config(std::move(c)),
          graph(config),
          log([this](std::string line) { lines.push_back(std::move(line)); },
              [] { return std::string("2026-01-01T00:00:00.000Z"); }),
          sup(config, graph, sys, log, mode, context) {}

    Pid pid(const std::string& name) { return sys.pid_of.at(index(name)); }
    std::size_t index(const std::string& name) {
        return static_cast<std::size_t>(config.find(name));
    }
    const Service& svc(const std::string& name) { return sup.services()[index(name)]; }
    ServiceState state(const std::string& name) { return svc(name).state(); }

    // exec succeeded for the current process of `name`.
    void exec_ok(const std::string& name) { sup.on_exec_result(pid(name), ExecResult::ok()); }
    // The leader of `name` exits; its whole group is gone too.
    void exit(const std::string& name, int code) {
        Pid p = pid(name);
        sys.alive_groups.erase(p);
        sup.on_child_exit(p, ExitStatus::exited(code));
    }
    void killed(const std::string& name, int sig) {
        Pid p = pid(name);
        sys.alive_groups.erase(p);
        sup.on_child_exit(p, ExitStatus::killed(sig));
    }
    void advance(Duration d) {
        sys.advance(d);
        sup.on_time(sys.now());
    }
    // Advance to the next deadline the core asked for.
    void fire_next_deadline() {
        auto d = sup.next_deadline();
        ASSERT_TRUE(d.has_value());
        sys.advance(std::chrono::ceil<Duration>(*d - sys.now()));
        sup.on_time(sys.now());
    }
    bool logged(const std::string& needle) const {
        for (const auto& l : lines)
            if (l.find(needle) != std::string::npos) return true;
        return false;
    }

    Config config;
    Graph graph;
    FakeSys sys;
    std::vector<std::string> lines;
    Logger log;
    Supervisor sup;
};

}  // namespace sv::test
