// PID 1 and subreaper set-up (see init.h).
//
// reboot(2) and kill(-1, …) can take a whole machine down, so both are
// guarded by getpid() == 1 here and in sys_posix.cc: inside a PID namespace
// they reach only that namespace (reboot ends the namespace's init, which is
// how the tests exercise it). Unmounting and remounting / read-only are
// guarded harder, by surely_machine_init() (mounts.h): a PID namespace's init
// may share its mounts, or its root's file system, with the host.
#include "init.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "mounts.h"

namespace sv {

namespace {

constexpr int kFatalPauseSeconds = 10;

// All of `text` on `fd`; false when a write fails.
bool write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// On stderr, else straight on the console (a kernel-started init whose
// stderr is closed or broken still has a console to say it on).
void say_on_console(const std::string& text) {
    if (write_all(2, text)) return;
    const int fd = ::open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return;
    (void)write_all(fd, text);
    ::close(fd);
}

// A plain sleep: nothing else runs yet, and the handled signals are still
// blocked (run.cc), so nothing can cut it short but the clock.
void pause_seconds(int seconds) {
    timespec left{seconds, 0};
    while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

}  // namespace

void prepare_process() {
    // Before anything else: a VM's /init starts with nothing mounted, and
    // the rest (the /dev/null below, /proc for the sweep and the power
    // button's /dev/input) expects the usual file systems.
    mount_early_filesystems();
    // A kernel-started init may have no stdin/stdout/stderr; make sure the
    // first pipes we create do not land on 0-2.
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) < 0) {
            int n = ::open("/dev/null", O_RDWR);
            if (n >= 0 && n != fd) {
                ::dup2(n, fd);
                ::close(n);
            }
        }
    }
    // Writes to a closed pipe must return EPIPE, not kill the supervisor.
    ::signal(SIGPIPE, SIG_IGN);
    // Once a command holds the terminal's foreground (single-command mode,
    // the main command), our own messages to that terminal come from a
    // background group: with `stty tostop` SIGTTOU would stop us. Children
    // get every disposition back to the default (os/child.cc).
    ::signal(SIGTTOU, SIG_IGN);
    ::signal(SIGTTIN, SIG_IGN);
    if (!std::getenv("PATH"))
        ::setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
    if (::getpid() == 1) {
        // Ctrl-Alt-Del (and QEMU's monitor "sendkey ctrl-alt-delete") then
        // arrives as SIGINT: a graceful shutdown instead of an instant reboot.
        // In a container's PID namespace this fails harmlessly (EINVAL).
        (void)::reboot(RB_DISABLE_CAD);
    } else if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        std::fprintf(stderr, "supervisor: warning: cannot become a child subreaper: %s\n",
                     std::strerror(errno));
    }
}

void final_power_action(OnExit action) {
    if (::getpid() != 1) return;
    if (action == OnExit::Exit) {
        // A container's PID 1 exits and its engine shows the status; the
        // kernel's init may not: it would panic.
        if (!surely_machine_init()) return;
        say_on_console("supervisor: on_exit is \"exit\", but an init may not exit: powering off\n");
        action = OnExit::Poweroff;
    }
    ::sync();
    unmount_for_power_off();  // only as the machine's init (mounts.h)
    (void)::reboot(action == OnExit::Reboot ? RB_AUTOBOOT : RB_POWER_OFF);
    // Still here: reboot(2) failed (no CAP_SYS_BOOT). Fall back to exiting.
    std::fprintf(stderr, "supervisor: error: reboot(2) failed: %s\n", std::strerror(errno));
}

bool set_hostname(const std::string& name) {
    if (::sethostname(name.data(), name.size()) == 0) return true;
    std::fprintf(stderr, "supervisor: warning: cannot set the host name to '%s': %s\n",
                 name.c_str(), std::strerror(errno));
    return false;
}

void init_fatal(const std::string& message) {
    std::string text = message;
    if (text.empty() || text.back() != '\n') text += '\n';
    // getpid() == 1 is part of surely_machine_init(). A container's PID 1
    // exits at once: its engine shows the status, and nothing panics.
    if (!surely_machine_init()) {
        say_on_console(text);
        std::exit(2);
    }
    say_on_console(text + "supervisor: powering off in " + std::to_string(kFatalPauseSeconds) +
                   " seconds\n");
    pause_seconds(kFatalPauseSeconds);
    ::sync();
    unmount_for_power_off();
    (void)::reboot(RB_POWER_OFF);
    // reboot(2) cannot fail for the kernel's own init (it has CAP_SYS_BOOT),
    // but if it does, exiting would panic the kernel: wait for the operator.
    say_on_console(std::string("supervisor: error: cannot power off: ") + std::strerror(errno) +
                   "\n");
    for (;;) ::pause();
}

}  // namespace sv
