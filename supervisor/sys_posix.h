// The real Sys: fork/exec with one discipline, process-group signals, the
// final sweep, and the hooks the libev shell needs to watch what a spawn
// created (exec-status pipe, output pipes, notify socket).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "sys.h"

namespace sv {

class Output;
class Probes;

// What a failed spawn step reports through the close-on-exec status pipe.
enum class ExecStage : int { Exec = 0, Chdir, Groups, Setgid, Setuid, Session, Stdio };

struct ExecReport {
    int stage = 0;  // ExecStage
    int error = 0;  // errno
};

// "cannot execute /usr/bin/apii" etc., for the log line "NAME: <this>: <strerror>".
std::string exec_stage_text(ExecStage stage, const ServiceConfig& service);

class PosixSys : public Sys {
  public:
    // `watch_exec_pipe(pid, fd)`: the shell watches fd (the read end of the
    // status pipe, close-on-exec) and reports the result for pid.
    using WatchExecPipe = std::function<void(pid_t pid, int fd)>;

    PosixSys(Output& output, Probes& probes, WatchExecPipe watch_exec_pipe);

    TimePoint now() const override;
    SpawnResult spawn(std::size_t index, const ServiceConfig& service, bool foreground) override;
    void kill_group(pid_t pgid, int sig) override;
    bool group_alive(pid_t pgid) override;
    void sweep(int sig) override;
    bool has_children() override;
    void start_probe(std::size_t index, ProbeRole role, const ProbeConfig& probe) override;
    void stop_probe(std::size_t index, ProbeRole role) override;

  private:
    Output& output_;
    Probes& probes_;
    WatchExecPipe watch_exec_pipe_;
};

}  // namespace sv
