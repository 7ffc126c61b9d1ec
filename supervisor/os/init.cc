// PID 1 and subreaper set-up (see init.h).
//
// reboot(2) and kill(-1, …) can take a whole machine down, so both are
// guarded by getpid() == 1 here and in sys_posix.cc: inside a PID namespace
// they reach only that namespace (reboot ends the namespace's init, which is
// how the tests exercise it).
#include "init.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sv {

void prepare_process() {
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
    if (action == OnExit::Exit || ::getpid() != 1) return;
    ::sync();
    (void)::reboot(action == OnExit::Reboot ? RB_AUTOBOOT : RB_POWER_OFF);
    // Still here: reboot(2) failed (no CAP_SYS_BOOT). Fall back to exiting.
    std::fprintf(stderr, "supervisor: error: reboot(2) failed: %s\n", std::strerror(errno));
}

}  // namespace sv
