// The real Sys (core/sys.h): spawning through the one child routine
// (child.h), process-group signals, the final sweep. What a spawn creates
// (the exec's outcome, the output pipes) and the probes belong to other
// parts of the shell, which PosixSys reaches through SysHooks, so it knows
// nothing of output or probes itself.
#pragma once

#include <sys/types.h>

#include "output.h"
#include "sys.h"

namespace sv {

class SysHooks {
  public:
    // A process was started for service `index`, and its exec went as
    // `exec` says (exec_pending: await_exec(pid) will say): tell the core
    // (after the current event), and read its output pipes (read -1: not
    // piped). Takes ownership of the fds.
    virtual void spawned(std::size_t index, pid_t pid, const ExecResult& exec, bool exec_pending,
                         OutputPipe out, OutputPipe err) = 0;
    virtual void start_probe(std::size_t index, ProbeRole role, const ProbeConfig& probe) = 0;
    virtual void stop_probe(std::size_t index, ProbeRole role) = 0;

  protected:
    ~SysHooks() = default;
};

class PosixSys : public Sys {
  public:
    explicit PosixSys(SysHooks& hooks) : hooks_(hooks) {}
    ~PosixSys() override;
    PosixSys(const PosixSys&) = delete;
    PosixSys& operator=(const PosixSys&) = delete;

    TimePoint now() const override;
    SpawnResult spawn(std::size_t index, const SpawnPlan& plan) override;
    void kill_group(Pid pgid, int sig) override;
    bool group_alive(Pid pgid) override;
    void sweep(int sig) override;
    bool has_children() override;
    void start_probe(std::size_t index, ProbeRole role, const ProbeConfig& probe) override;
    void stop_probe(std::size_t index, ProbeRole role) override;

  private:
    SysHooks& hooks_;
    int devnull_ = -1;  // /dev/null, opened at the first spawn that needs it
};

}  // namespace sv
