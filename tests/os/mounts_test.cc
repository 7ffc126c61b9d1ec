// The machine init's file-system duties (os/mounts.h, os/init.h) where they
// can run in a test: finding mount points from /proc/self/mountinfo (paths
// with spaces included) and, with /proc hidden as before a VM's first
// mount, from the devices of a directory and its parent; doing nothing when
// not the machine's init (a PID namespace's init without /proc included);
// set_hostname(); init_fatal() outside the machine's init.
//
// The mounts happen in a forked child that first enters a private mount
// namespace, so nothing of them reaches this machine; without the privilege
// for that (not root) those tests are skipped.
#include "mounts.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "init.h"
#include "power_button.h"

namespace sv {
namespace {

constexpr int kWaitMs = 10000;

// Runs `body` in a forked child; returns its exit status (or -1 when it
// did not end within kWaitMs, after killing it). `err` gets its stderr.
template <typename Body>
int in_child(Body body, std::string* err = nullptr) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(p[1], 2);
        ::_exit(body());
    }
    ::close(p[1]);
    std::string got;
    char buf[512];
    pollfd pf{p[0], POLLIN, 0};
    while (::poll(&pf, 1, kWaitMs) == 1) {
        const ssize_t n = ::read(p[0], buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    ::close(p[0]);
    if (err) *err = got;
    int status = 0;
    for (int i = 0; i < kWaitMs / 10; ++i) {
        if (::waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        ::usleep(10000);  // bounded wait for the child's exit
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
}

// 77: no private mount namespace here (not root): the test is skipped.
int enter_private_mount_namespace() {
    if (::unshare(CLONE_NEWNS) != 0) return 77;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 77;
    return 0;
}

TEST(MountPoint, ProcAndRootAreMountPointsAPlainDirectoryIsNot) {
    EXPECT_TRUE(is_mount_point("/"));
    EXPECT_TRUE(is_mount_point("/proc"));
    EXPECT_FALSE(is_mount_point("/proc/self/fd"));
    EXPECT_FALSE(is_mount_point("/no/such/directory"));
}

TEST(MountPoint, FoundWithAndWithoutProc) {
    char tmpl[] = "/tmp/mounts-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string base = tmpl;
    const std::string spaced = base + "/a dir\twith\\escapes";
    const std::string plain = base + "/plain";
    ASSERT_EQ(::mkdir(spaced.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(plain.c_str(), 0755), 0);
    const int code = in_child([&] {
        if (const int rc = enter_private_mount_namespace()) return rc;
        if (::mount("tmpfs", spaced.c_str(), "tmpfs", 0, "size=64k") != 0) return 10;
        // /proc/self/mountinfo writes the space, tab and backslash as \ooo.
        if (!is_mount_point(spaced)) return 11;
        if (is_mount_point(plain) || is_mount_point(base)) return 12;
        // Hide /proc, as a kernel-started /init finds it: device numbers.
        if (::mount("tmpfs", "/proc", "tmpfs", 0, "size=64k") != 0) return 13;
        if (::access("/proc/self/mountinfo", F_OK) == 0) return 14;
        if (!is_mount_point(spaced)) return 15;
        if (is_mount_point(plain) || is_mount_point(base)) return 16;
        if (!is_mount_point("/")) return 17;
        return 0;
    });
    ::rmdir(spaced.c_str());
    ::rmdir(plain.c_str());
    ::rmdir(base.c_str());
    if (code == 77) GTEST_SKIP() << "no private mount namespace here (needs root)";
    EXPECT_EQ(code, 0) << "failed at check " << code;
}

TEST(MachineInit, NothingIsMountedOrUnmountedOutsideIt) {
    // This test process is not PID 1: both calls must leave the mount table
    // alone (in a child's private namespace, to be sure nothing leaks).
    const int code = in_child([] {
        if (const int rc = enter_private_mount_namespace()) return rc;
        const auto count = [] {
            std::FILE* f = std::fopen("/proc/self/mounts", "r");
            int n = 0;
            for (int c; f && (c = std::fgetc(f)) != EOF;) n += c == '\n';
            if (f) std::fclose(f);
            return n;
        };
        const int before = count();
        mount_early_filesystems();
        unmount_for_power_off();
        return count() == before ? 0 : 1;
    });
    if (code == 77) GTEST_SKIP() << "no private mount namespace here (needs root)";
    EXPECT_EQ(code, 0);
}

TEST(MachineInit, APidNamespaceInitWithoutProcIsNotTheMachine) {
    // PID 1 of a new PID namespace whose /proc is hidden, as in
    // `unshare -fpm sh -c 'umount -l /proc; exec supervisor run'`: no
    // mounts, no power-off unmounting, no 10 s pause on a fatal error.
    const int code = in_child([] {
        if (const int rc = enter_private_mount_namespace()) return rc;
        if (::unshare(CLONE_NEWPID) != 0) return 77;
        const pid_t init = ::fork();
        if (init < 0) return 20;
        if (init == 0) {
            if (::getpid() != 1) ::_exit(21);
            if (::mount("tmpfs", "/proc", "tmpfs", 0, "size=64k") != 0) ::_exit(22);
            if (surely_machine_init()) ::_exit(24);
            mount_early_filesystems();
            if (::access("/proc/self", F_OK) == 0) ::_exit(25);  // mounted anyway
            ::_exit(0);
        }
        int status = 0;
        if (::waitpid(init, &status, 0) != init || !WIFEXITED(status)) return 26;
        return WEXITSTATUS(status);
    });
    if (code == 77) GTEST_SKIP() << "no private mount and PID namespace here (needs root)";
    EXPECT_EQ(code, 0) << "failed at check " << code;
}

TEST(MachineInit, NotPidOne) {
    EXPECT_FALSE(surely_machine_init());
}

TEST(Hostname, SetInAPrivateUtsNamespace) {
    std::string err;
    const int code = in_child(
        [] {
            if (::unshare(CLONE_NEWUTS) != 0) return 77;
            if (!set_hostname("supervisor-test")) return 10;
            char name[256] = {};
            if (::gethostname(name, sizeof name - 1) != 0) return 11;
            if (std::string(name) != "supervisor-test") return 12;
            return set_hostname(std::string(300, 'x')) ? 13 : 0;  // too long: EINVAL
        },
        &err);
    if (code == 77) GTEST_SKIP() << "no private UTS namespace here (needs root)";
    EXPECT_EQ(code, 0) << "failed at check " << code;
    EXPECT_NE(err.find("supervisor: warning: cannot set the host name to 'xxx"), std::string::npos)
        << err;
}

TEST(InitFatal, OutsideTheMachineInitPrintsAndExits2) {
    std::string err;
    const int code = in_child(
        [] {
            init_fatal("/etc/supervisor/supervisor.toml:3:1: unknown key 'x'");
            return 0;  // not reached
        },
        &err);
    EXPECT_EQ(code, 2);
    EXPECT_EQ(err, "/etc/supervisor/supervisor.toml:3:1: unknown key 'x'\n");
}

}  // namespace
}  // namespace sv
