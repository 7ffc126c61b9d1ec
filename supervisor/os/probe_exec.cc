// exec probes: one child process per attempt, through the same child
// routine as services (child.h): its own session (so a timeout's SIGKILL
// reaches all of it), stdio on /dev/null, the supervisor's environment
// (core/spawn_plan.h plan_probe). Exit status 0 is healthy; a program that
// cannot be executed is reported as such ("cannot execute pg_isready: No
// such file or directory"), not as a bare exit status 127.
//
// The shell owns reaping (its SIGCHLD drain): Probes::on_child_exit()
// hands each reaped pid here first through ExecPids.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "child.h"
#include "exit_status.h"
#include "probe_internal.h"
#include "signals.h"
#include "wait_status.h"

namespace sv::probe_detail {

namespace {

class ExecProbe final : public PollingProbe, ExitListener {
  public:
    ExecProbe(ProbeHost& host, ExecPids& pids, std::size_t index, ProbeRole role,
              const ProbeConfig& config, const RunContext& context)
        : PollingProbe(host, index, role, config),
          pids_(pids),
          plan_(plan_probe(config.argv, context)) {}
    ~ExecProbe() override { cancel_attempt(); }

    void exited(int wait_status) override {
        try {
            finish(wait_status);
        } catch (...) {
            recover("ending an exec probe attempt");
        }
    }

  private:
    void finish(int wait_status) {
        pids_.running.erase(pid_);
        // Whatever the probe left in its group goes with it. The pid cannot
        // name another group yet: it was reaped just now, in this iteration,
        // and Linux does not hand out a pid still used as a process group id.
        ::kill(-pid_, SIGKILL);
        pid_ = -1;
        close_pidfd();
        const ExecResult exec = std::move(exec_);
        exec_ = ExecResult::ok();
        if (exec.error != 0) {
            complete(false, exec.what + ": " + exec.why);
            return;
        }
        const ExitStatus st = decode_wait_status(wait_status);
        complete(!st.signaled && st.value == 0, st.signaled
                                                    ? "killed by signal " + signal_name(st.value)
                                                    : "exit status " + std::to_string(st.value));
    }

  protected:
    void start_attempt() override {
        const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0) {
            complete(false, "cannot start probe: cannot open /dev/null: " +
                                std::string(std::strerror(errno)));
            return;
        }
        const Child child =
            start_child(plan_, ChildStdio{devnull, devnull, devnull}, Launch::Wait, Pidfd::Want);
        ::close(devnull);
        if (child.pid < 0) {
            complete(false, "cannot start probe: " + std::string(child.what) + ": " +
                                std::strerror(child.error));
            return;
        }
        pid_ = child.pid;
        exec_ = child.exec;
        pidfd_ = child.pidfd;
        pids_.running[pid_] = this;
    }

    void cancel_attempt() override {
        exec_ = ExecResult::ok();
        if (pid_ <= 0) return;
        // The child may not have reached setsid() yet: signal it alone too,
        // through its pidfd, which cannot reach another process if the pid
        // was reaped a moment ago.
        ::kill(-pid_, SIGKILL);
        if (pidfd_ >= 0)
            (void)pidfd_signal(pidfd_, SIGKILL);
        else
            ::kill(pid_, SIGKILL);
        close_pidfd();
        pids_.running.erase(pid_);
        pids_.abandoned.insert(pid_);
        pid_ = -1;
    }

  private:
    void close_pidfd() {
        if (pidfd_ >= 0) ::close(pidfd_);
        pidfd_ = -1;
    }

    ExecPids& pids_;
    const SpawnPlan plan_;
    pid_t pid_ = -1;
    ExecResult exec_;  // how the current attempt's exec went
    int pidfd_ = -1;
};

}  // namespace

std::unique_ptr<Probe> make_exec_probe(ProbeHost& host, ExecPids& pids, std::size_t index,
                                       ProbeRole role, const ProbeConfig& config,
                                       const RunContext& context) {
    return std::make_unique<ExecProbe>(host, pids, index, role, config, context);
}

}  // namespace sv::probe_detail
