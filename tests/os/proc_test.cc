// Reading /proc (os/proc.h) against real processes: this test process, a
// child whose name holds spaces and parentheses, a zombie, and a child with
// a grandchild for descendants_of().
#include "proc.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sv {
namespace {

constexpr int kWaitMs = 10000;

// Reads one pid_t (or a single byte when `value` is null) from `fd`, within
// kWaitMs.
bool read_within_limit(int fd, void* value, std::size_t size) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kWaitMs) != 1) return false;
    return ::read(fd, value, size) == static_cast<ssize_t>(size);
}

// A forked child, SIGKILLed with its whole process group and reaped at the
// end of the test whatever happens.
struct ForkedChild {
    pid_t pid = -1;
    ~ForkedChild() {
        if (pid <= 0) return;
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
        int status;
        ::waitpid(pid, &status, 0);
    }
};

TEST(ProcStat, ThisProcess) {
    const auto st = read_proc_stat(::getpid());
    ASSERT_TRUE(st.has_value());
    // Reading its own stat, the process is running (or just preempted).
    EXPECT_TRUE(st->state == 'R' || st->state == 'S') << st->state;
    EXPECT_EQ(st->ppid, ::getppid());
}

TEST(ProcStat, NameWithSpacesAndParentheses) {
    // The command name is field 2 and may hold anything: a parser that
    // stopped at the first ')' would read "b" as the state here.
    int ready[2];
    ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    ForkedChild child;
    child.pid = ::fork();
    ASSERT_GE(child.pid, 0);
    if (child.pid == 0) {
        ::setpgid(0, 0);
        ::prctl(PR_SET_NAME, "a) b (c", 0, 0, 0);
        const char c = 'x';
        (void)!::write(ready[1], &c, 1);
        for (;;) ::pause();
    }
    ::close(ready[1]);
    char c = 0;
    ASSERT_TRUE(read_within_limit(ready[0], &c, 1));
    ::close(ready[0]);
    // The name really is in the file, so the test tests something.
    std::string comm;
    std::getline(std::ifstream("/proc/" + std::to_string(child.pid) + "/comm"), comm);
    ASSERT_EQ(comm, "a) b (c");

    const auto st = read_proc_stat(child.pid);
    ASSERT_TRUE(st.has_value());
    EXPECT_TRUE(st->state == 'R' || st->state == 'S') << st->state;
    EXPECT_EQ(st->ppid, ::getpid());
}

TEST(ProcStat, ZombieAndThenGone) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(0);
    // Poll (bounded) until the kernel shows it as a zombie.
    std::optional<ProcStat> st;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
    while (std::chrono::steady_clock::now() < until) {
        st = read_proc_stat(pid);
        if (st && st->state == 'Z') break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->state, 'Z');
    EXPECT_EQ(st->ppid, ::getpid());
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    // Reaped: the process is gone.
    EXPECT_FALSE(read_proc_stat(pid).has_value());
}

TEST(ProcStat, NoSuchProcess) {
    // Beyond pid_max (at most 4194304 on Linux).
    EXPECT_FALSE(read_proc_stat(99999999).has_value());
}

TEST(Descendants, ChildAndGrandchild) {
    int report[2];
    ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
    ForkedChild child;
    child.pid = ::fork();
    ASSERT_GE(child.pid, 0);
    if (child.pid == 0) {
        // Its own group, so the cleanup's kill(-pid) takes the grandchild too.
        ::setpgid(0, 0);
        const pid_t grandchild = ::fork();
        if (grandchild == 0)
            for (;;) ::pause();
        (void)!::write(report[1], &grandchild, sizeof grandchild);
        for (;;) ::pause();
    }
    ::close(report[1]);
    pid_t grandchild = -1;
    ASSERT_TRUE(read_within_limit(report[0], &grandchild, sizeof grandchild));
    ::close(report[0]);
    ASSERT_GT(grandchild, 0);

    const std::vector<pid_t> ours = descendants_of(::getpid());
    const auto at = [&](pid_t p) { return std::find(ours.begin(), ours.end(), p); };
    ASSERT_NE(at(child.pid), ours.end());
    ASSERT_NE(at(grandchild), ours.end());
    EXPECT_LT(at(child.pid), at(grandchild));  // parents before their children
    EXPECT_EQ(at(::getpid()), ours.end());     // not the root itself
    EXPECT_EQ(at(::getppid()), ours.end());    // never upwards

    EXPECT_EQ(descendants_of(child.pid), std::vector<pid_t>{grandchild});
    EXPECT_TRUE(descendants_of(grandchild).empty());
}

}  // namespace
}  // namespace sv
