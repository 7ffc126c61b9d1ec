// The one child routine (os/child.h), for real: clone, set-up and execve()
// of a SpawnPlan, the exec report, the PATH search of the plan's own
// environment, the new session, and what the child must not inherit.
// There is no libev loop here: each test reaps its child with waitpid().
#include "child.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "spawn_plan.h"

namespace sv {
namespace {

using Lines = std::vector<std::string>;

constexpr auto kWaitLimit = std::chrono::seconds(10);

// A plan as for an exec probe: exactly `env` (sorted), stdio decided by the
// test, the program looked up in env's PATH.
SpawnPlan plan_for(std::vector<std::string> argv,
                   std::vector<std::string> env = {"PATH=/usr/bin:/bin"}) {
    RunContext context;
    context.base_env = Environment(env);
    return plan_probe(argv, context);
}

struct Outcome {
    ExecResult exec;
    int wait_status = -1;
    pid_t pid = -1;
};

// Every test runs twice: the launch waited for (CLONE_VFORK) and overlapped
// (the exec outcome asked for afterwards).
class ChildTest : public testing::TestWithParam<Launch> {
  protected:
    void SetUp() override {
        std::string tmpl = testing::TempDir() + "sv_child_XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
        dir_ = std::filesystem::canonical(tmpl).string();
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    std::string path(const std::string& name) const { return dir_ + "/" + name; }

    void write_file(const std::string& name, const std::string& text, mode_t mode) {
        std::ofstream(path(name)) << text;
        ASSERT_EQ(::chmod(path(name).c_str(), mode), 0);
    }

    static std::string read_file(const std::string& p) {
        std::ifstream in(p);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

    // Runs `plan` with stdin on /dev/null and stdout (and stderr) into the
    // file "out" when `capture`; reads the exec result and reaps the child,
    // each within kWaitLimit.
    Outcome run(const SpawnPlan& plan, bool capture = true) {
        Outcome o;
        const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        const int out =
            capture ? ::open(path("out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                    : -1;
        EXPECT_GE(in, 0);
        const Child child = start_child(plan, ChildStdio{in, out, out}, GetParam());
        ::close(in);
        if (out >= 0) ::close(out);
        EXPECT_GT(child.pid, 0) << child.what << ": " << std::strerror(child.error);
        if (child.pid <= 0) return o;
        o.pid = child.pid;
        // Waited for: known when start_child() returns.
        o.exec = child.exec_pending ? await_exec(child.pid) : child.exec;
        o.wait_status = reap(child.pid);
        return o;
    }

    // waitpid() with a bound: the child is killed if it outlives it.
    static int reap(pid_t pid) {
        const auto until = std::chrono::steady_clock::now() + kWaitLimit;
        int status = 0;
        while (std::chrono::steady_clock::now() < until) {
            const pid_t r = ::waitpid(pid, &status, WNOHANG);
            if (r == pid) return status;
            if (r < 0) {
                ADD_FAILURE() << "waitpid: " << std::strerror(errno);
                return -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling, not asserting
        }
        ADD_FAILURE() << "child " << pid << " still running after the limit";
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return -1;
    }

    static bool exited_with(int wait_status, int code) {
        return wait_status >= 0 && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == code;
    }

    static Lines lines(const std::string& text) {
        Lines out;
        std::istringstream in(text);
        for (std::string l; std::getline(in, l);) out.push_back(l);
        return out;
    }

    std::string dir_;
};

TEST_P(ChildTest, TrueExecsAndExitsZero) {
    const Outcome o = run(plan_for({"/bin/true"}));
    EXPECT_EQ(o.exec.error, 0) << o.exec.what << ": " << o.exec.why;
    EXPECT_TRUE(exited_with(o.wait_status, 0)) << o.wait_status;
}

TEST_P(ChildTest, MissingProgramIsReportedAtOnce) {
    // Reported when start_child() returns, not as a mysterious exit 127.
    const Outcome o = run(plan_for({"/nonexistent/x"}));
    EXPECT_EQ(o.exec.error, ENOENT);
    EXPECT_EQ(o.exec.what, "cannot execute /nonexistent/x");
    EXPECT_EQ(o.exec.why, "No such file or directory");
    EXPECT_TRUE(exited_with(o.wait_status, 127)) << o.wait_status;
}

TEST_P(ChildTest, BareNameIsFoundThroughThePlansPath) {
    write_file("hello", "#!/bin/sh\necho hello from $0\n", 0755);
    const SpawnPlan plan = plan_for({"hello"}, {"PATH=/nonexistent:" + dir_});
    ASSERT_EQ(plan.exec_paths, (Lines{"/nonexistent/hello", path("hello")}));
    const Outcome o = run(plan);
    EXPECT_EQ(o.exec.error, 0) << o.exec.what << ": " << o.exec.why;
    EXPECT_TRUE(exited_with(o.wait_status, 0));
    EXPECT_EQ(read_file(path("out")), "hello from " + path("hello") + "\n");
}

TEST_P(ChildTest, BareNameIsNotFoundThroughTheTestsOwnPath) {
    // Even with the directory in this process's PATH, only the plan's
    // environment (here without PATH: the default) is searched.
    write_file("hello", "#!/bin/sh\necho hello\n", 0755);
    const char* old = ::getenv("PATH");
    const std::string saved = old ? old : "";
    ::setenv("PATH", dir_.c_str(), 1);
    const Outcome o = run(plan_for({"hello"}, {"HOME=/"}));
    if (old) {
        ::setenv("PATH", saved.c_str(), 1);
    } else {
        ::unsetenv("PATH");
    }
    EXPECT_EQ(o.exec.error, ENOENT);
    EXPECT_EQ(o.exec.what, "cannot execute hello");
    EXPECT_TRUE(exited_with(o.wait_status, 127));
}

TEST_P(ChildTest, NotExecutableIsEacces) {
    // Even root cannot execute a file without any execute bit.
    write_file("data", "#!/bin/sh\nexit 0\n", 0644);
    const Outcome o = run(plan_for({path("data")}));
    EXPECT_EQ(o.exec.error, EACCES);
    EXPECT_EQ(o.exec.what, "cannot execute " + path("data"));
    EXPECT_EQ(o.exec.why, "Permission denied");
    EXPECT_TRUE(exited_with(o.wait_status, 127));
}

TEST_P(ChildTest, EaccesIsRememberedWhileThePathSearchGoesOn) {
    // As execvp(): a non-executable match does not stop the search, and is
    // what gets reported when nothing better turns up.
    std::filesystem::create_directory(path("a"));
    std::filesystem::create_directory(path("b"));
    write_file("a/tool", "#!/bin/sh\necho from a\n", 0644);
    write_file("b/tool", "#!/bin/sh\necho from b\n", 0755);
    Outcome o = run(plan_for({"tool"}, {"PATH=" + path("a") + ":" + path("b")}));
    EXPECT_EQ(o.exec.error, 0) << o.exec.what << ": " << o.exec.why;
    EXPECT_EQ(read_file(path("out")), "from b\n");

    o = run(plan_for({"tool"}, {"PATH=" + path("a") + ":/nonexistent"}));
    EXPECT_EQ(o.exec.error, EACCES);
    EXPECT_EQ(o.exec.what, "cannot execute tool");
}

TEST_P(ChildTest, ScriptWithoutShebangRunsThroughSh) {
    // ENOEXEC: run by /bin/sh with the same arguments, as execvp() does.
    write_file("plain", "echo \"plain script: $1 $2\"\n", 0755);
    const Outcome o = run(plan_for({path("plain"), "one", "two words"}));
    EXPECT_EQ(o.exec.error, 0) << o.exec.what << ": " << o.exec.why;
    EXPECT_TRUE(exited_with(o.wait_status, 0));
    EXPECT_EQ(read_file(path("out")), "plain script: one two words\n");
}

TEST_P(ChildTest, MissingWorkdirIsReported) {
    SpawnPlan plan = plan_for({"/bin/true"});
    plan.workdir = "/nonexistent/dir";
    const Outcome o = run(plan);
    EXPECT_EQ(o.exec.error, ENOENT);
    EXPECT_EQ(o.exec.what, "cannot change directory to /nonexistent/dir");
    EXPECT_EQ(o.exec.why, "No such file or directory");
    EXPECT_TRUE(exited_with(o.wait_status, 127));
}

TEST_P(ChildTest, RunsInItsWorkdir) {
    SpawnPlan plan = plan_for({"/bin/pwd"});
    plan.workdir = dir_;
    const Outcome o = run(plan);
    EXPECT_EQ(o.exec.error, 0) << o.exec.what << ": " << o.exec.why;
    EXPECT_EQ(read_file(path("out")), dir_ + "\n");
}

TEST_P(ChildTest, ChildLeadsANewSession) {
    // Its stop signal and SIGKILL then reach its whole tree, and a signal
    // to our own group (a terminal's ^C) does not reach it.
    const Outcome o = run(plan_for({"/bin/cat", "/proc/self/stat"}));
    ASSERT_EQ(o.exec.error, 0) << o.exec.what << ": " << o.exec.why;
    const std::string stat = read_file(path("out"));
    const std::size_t close = stat.rfind(')');
    ASSERT_NE(close, std::string::npos) << stat;
    std::istringstream fields(stat.substr(close + 1));
    char state = 0;
    long ppid = 0, pgrp = 0, session = 0;
    fields >> state >> ppid >> pgrp >> session;
    ASSERT_TRUE(fields) << stat;
    EXPECT_EQ(std::stol(stat), o.pid);  // exec'd in place, no extra fork
    EXPECT_EQ(ppid, ::getpid());
    EXPECT_EQ(pgrp, o.pid);
    EXPECT_EQ(session, o.pid);
    EXPECT_NE(::getsid(0), o.pid);
}

TEST_P(ChildTest, DescriptorsWithoutCloexecDoNotLeak) {
    // Opened the careless way, as a library might, at a number far from
    // anything the child itself opens.
    const int careless = ::open("/dev/null", O_RDONLY);
    ASSERT_GE(careless, 0);
    const int leaky = ::fcntl(careless, F_DUPFD, 100);  // F_DUPFD: no FD_CLOEXEC
    ::close(careless);
    ASSERT_GE(leaky, 100);
    ASSERT_EQ(::fcntl(leaky, F_GETFD) & FD_CLOEXEC, 0);

    const Outcome o = run(plan_for({"/bin/ls", "/proc/self/fd"}));
    ::close(leaky);
    ASSERT_EQ(o.exec.error, 0) << o.exec.what << ": " << o.exec.why;
    const Lines fds = lines(read_file(path("out")));
    // The listing worked: stdio is there.
    for (const char* fd : {"0", "1", "2"})
        EXPECT_NE(std::find(fds.begin(), fds.end(), fd), fds.end()) << fd;
    EXPECT_EQ(std::find(fds.begin(), fds.end(), std::to_string(leaky)), fds.end())
        << "descriptor " << leaky << " leaked into the child";
}

TEST_P(ChildTest, EnvironmentIsExactlyThePlans) {
    // Nothing of this process's environment gets in on the side.
    ::setenv("SV_CHILD_TEST_LEAK", "1", 1);
    const SpawnPlan plan =
        plan_for({"/usr/bin/env"}, {"PATH=/usr/bin:/bin", "GREETING=two words", "EMPTY=", "A=1"});
    const Outcome o = run(plan);
    ::unsetenv("SV_CHILD_TEST_LEAK");
    ASSERT_EQ(o.exec.error, 0) << o.exec.what << ": " << o.exec.why;
    EXPECT_EQ(lines(read_file(path("out"))), plan.env.entries());
    EXPECT_EQ(plan.env.entries(),
              (Lines{"A=1", "EMPTY=", "GREETING=two words", "PATH=/usr/bin:/bin"}));
}

TEST_P(ChildTest, SignalMaskAndDispositionsAreReset) {
    // The supervisor blocks and handles signals; a service must start with
    // nothing blocked and nothing ignored. The dispositions are read at a
    // process's first spawn (they are settled by then in the supervisor):
    // this test needs a process of its own, as ctest gives every test.
    sigset_t usr2, old_mask;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    ASSERT_EQ(::sigprocmask(SIG_BLOCK, &usr2, &old_mask), 0);
    struct sigaction ignore;
    struct sigaction old_usr1;
    std::memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    ASSERT_EQ(::sigaction(SIGUSR1, &ignore, &old_usr1), 0);

    const Outcome o = run(plan_for({"/bin/cat", "/proc/self/status"}));
    ::sigaction(SIGUSR1, &old_usr1, nullptr);
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    ASSERT_EQ(o.exec.error, 0) << o.exec.what << ": " << o.exec.why;
    int found = 0;
    for (const std::string& l : lines(read_file(path("out")))) {
        if (l.starts_with("SigBlk:") || l.starts_with("SigIgn:")) {
            ++found;
            EXPECT_EQ(l.substr(l.find_first_not_of(" \t", 7)), "0000000000000000") << l;
        }
    }
    EXPECT_EQ(found, 2);
}

TEST_P(ChildTest, ExecStageTexts) {
    SpawnPlan plan = plan_for({"/usr/bin/app"});
    plan.user = "app";
    plan.workdir = "/srv";
    EXPECT_EQ(exec_stage_text(ExecStage::Exec, plan), "cannot execute /usr/bin/app");
    EXPECT_EQ(exec_stage_text(ExecStage::Chdir, plan), "cannot change directory to /srv");
    EXPECT_EQ(exec_stage_text(ExecStage::Setuid, plan), "cannot switch to user app");
    // Without a group the user's own primary group is meant.
    EXPECT_EQ(exec_stage_text(ExecStage::Setgid, plan), "cannot switch to group app");
    plan.group = "web";
    EXPECT_EQ(exec_stage_text(ExecStage::Setgid, plan), "cannot switch to group web");
}

TEST_P(ChildTest, ManyLaunchesAtOnceEachTellTheirOwnOutcome) {
    // More children than overlapped launches may fly at once (the oldest
    // then lands first), every other one failing at a different step; the
    // outcomes are asked for afterwards, newest first.
    struct Launched {
        pid_t pid;
        int error;  // what it must report
        bool pending;
        ExecResult told;  // by start_child(), when not pending
    };
    std::vector<Launched> launched;
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(in, 0);
    for (int i = 0; i < 30; ++i) {
        SpawnPlan plan = plan_for({i % 3 == 1 ? "/nonexistent/prog" : "/bin/true"});
        if (i % 3 == 2) plan.workdir = path("missing");
        const Child child = start_child(plan, ChildStdio{in, in, in}, GetParam());
        ASSERT_GT(child.pid, 0) << child.what;
        launched.push_back({child.pid, i % 3 == 0 ? 0 : ENOENT, child.exec_pending, child.exec});
    }
    ::close(in);
    std::reverse(launched.begin(), launched.end());
    for (const Launched& l : launched) {
        const ExecResult r = l.pending ? await_exec(l.pid) : l.told;
        EXPECT_EQ(r.error, l.error) << l.pid << " " << r.what;
        const int status = reap(l.pid);
        EXPECT_TRUE(exited_with(status, l.error == 0 ? 0 : 127)) << l.pid << " " << status;
    }
}

TEST_P(ChildTest, TheChildNeverWritesOurErrno) {
    // The child shares our thread's errno when it runs beside us; its
    // failures must not show up in it (child_syscalls.h).
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(in, 0);
    SpawnPlan plan = plan_for({"/nonexistent/prog"});
    plan.workdir = path("missing");
    std::vector<pid_t> pids;
    errno = 4242;
    for (int i = 0; i < 4; ++i)
        pids.push_back(start_child(plan, ChildStdio{in, in, in}, GetParam()).pid);
    // Wait for their exits without touching errno (waitid() leaves it alone
    // when it succeeds): each failed its chdir() and exec()s by then.
    for (pid_t pid : pids) {
        ASSERT_GT(pid, 0);
        siginfo_t info;
        std::memset(&info, 0, sizeof info);
        ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
    }
    EXPECT_EQ(errno, 4242);
    ::close(in);
    for (pid_t pid : pids) {
        (void)await_exec(pid);  // frees an overlapped launch's slot
        EXPECT_TRUE(exited_with(reap(pid), 127));
    }
}

INSTANTIATE_TEST_SUITE_P(Launches, ChildTest, testing::Values(Launch::Wait, Launch::Overlap),
                         [](const testing::TestParamInfo<Launch>& launch) {
                             return launch.param == Launch::Wait ? "Wait" : "Overlap";
                         });

}  // namespace
}  // namespace sv
