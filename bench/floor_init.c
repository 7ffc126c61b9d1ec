/* floor_init [-c] [-v] CMD [ARG...] [';' CMD [ARG...]]...
 *
 * The benchmark's floor: the least a PID 1 can do to start services, reap
 * every child and stop them, with no features (no restart, no logs, no
 * configuration, no readiness beyond exec). bench.py runs it in the "floor"
 * column next to the real inits; ours is reported as a ratio to it.
 *
 * - Each CMD (an absolute path, no PATH search) is started with fork +
 *   execv, one after the other; the children's execs overlap the next forks
 *   (with vfork the parent waits for each exec: on 2 CPUs, 500 services
 *   took 1.2-2.5x as long that way in our runs, 50 about as long). -v: vfork.
 * - -c: a chain: service k starts once service k-1 has exec'd (vfork, whose
 *   parent resumes once the child has exec'd) and on SIGTERM they stop in
 *   reverse order, each one reaped before the next is signalled.
 * - SIGCHLD, SIGTERM and SIGINT stay blocked and are taken with sigwaitinfo:
 *   idle, it sleeps in one system call. Every SIGCHLD drains waitpid(-1,
 *   WNOHANG), so orphans are reaped with the services.
 * - On SIGTERM or SIGINT every live service gets SIGTERM; once all services
 *   are reaped it exits with the first service's status (128 + signal when
 *   it was killed), as tini does for its one child. It also exits when every
 *   service has exited by itself.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* pid -> service index + 1, for every pid up to the kernel's highest
 * pid_max (PID_MAX_LIMIT); the pages never touched cost nothing. */
enum { kMaxPid = 1 << 22 };
static unsigned short slot_of[kMaxPid];
static pid_t pid_of[65535];
static char** argv_of[65535];
static int chain, use_vfork; /* not on the stack: vfork shares it */

int main(int argc, char** argv) {
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] && !argv[i][2]; ++i) {
        if (argv[i][1] == 'c')
            chain = 1;
        else if (argv[i][1] == 'v')
            use_vfork = 1;
        else
            break;
    }
    int n = 0;
    for (int start = i; i <= argc; ++i) /* split at ';' into NULL-terminated argvs */
        if (i == argc || strcmp(argv[i], ";") == 0) {
            if (i > start && n < 65535) argv_of[n++] = argv + start;
            if (i < argc) argv[i] = NULL;
            start = i + 1;
        }
    if (n == 0) {
        fputs("usage: floor_init [-c] [-v] CMD [ARG...] [';' CMD [ARG...]]...\n", stderr);
        return 2;
    }
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, &old);
    int live = 0, first_status = 0;
    for (int k = 0; k < n; ++k) {
        pid_t pid = (use_vfork || chain) ? vfork() : fork();
        if (pid == 0) {
            sigprocmask(SIG_SETMASK, &old, NULL);
            execv(argv_of[k][0], argv_of[k]);
            static const char msg[] = "floor_init: cannot exec a service\n";
            ssize_t ignored = write(2, msg, sizeof msg - 1);
            (void)ignored;
            _exit(127);
        }
        if (pid < 0) {
            perror("floor_init: fork");
            continue;
        }
        pid_of[k] = pid;
        slot_of[pid] = (unsigned short)(k + 1);
        ++live;
    }
    int stopping = 0, cur = n; /* chain: the service being stopped */
    while (live > 0) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
            stopping = 1;
            for (int k = n - 1; k >= 0; --k)
                if (pid_of[k] > 0 && kill(pid_of[k], SIGTERM) == 0 && chain) {
                    cur = k;
                    break;
                }
        } else if (sig == SIGCHLD) {
            int st;
            pid_t pid;
            while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
                int k = slot_of[pid] - 1;
                if (k < 0) continue; /* an orphan: reaped, nothing more */
                slot_of[pid] = 0;
                pid_of[k] = 0;
                --live;
                if (k == 0) first_status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
            }
            if (stopping && chain && cur < n && pid_of[cur] == 0) /* gone: the next one down */
                while (--cur >= 0)
                    if (pid_of[cur] > 0 && kill(pid_of[cur], SIGTERM) == 0) break;
        }
    }
    return first_status;
}
