/* orphanage FILE NAME N [--batch K | --fork] [--stay]: a fast orphan storm.
 * Records "NAME begin <ns>", then makes N orphans in batches of K (default
 * 100): for each batch an intermediate child creates K processes with
 * clone(CLONE_VM) (no page-table copy, so far cheaper than fork in a VM), each
 * of which exits at once, and the intermediate exits too: the K processes,
 * dead or alive, are re-parented to the nearest subreaper or PID 1, which
 * must reap them. Once every intermediate is reaped it records
 * "NAME done <ns>" (all N orphans have been handed over by then) and, with
 * --stay, sleeps until signalled; else it exits 0. Stamps are CLOCK_MONOTONIC,
 * one write(2) each, like helpers/stamp. --fork makes them the slow, classic
 * way instead (helpers/orphans): per orphan an intermediate fork()s a
 * grandchild and exits; the grandchild exits at once. The signals a
 * supervisor forwards (HUP, QUIT, USR1, USR2, WINCH) are ignored.
 * The last orphan is a fork()ed witness that waits until it is re-parented
 * and records "NAME adopted-by PPID <ns>": proof of who adopted the orphans. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stamp_event.h"

enum { kMaxBatch = 1000, kStack = 16384 };
static char stacks[kMaxBatch][kStack] __attribute__((aligned(16)));

static int orphan_main(void* arg) {
    (void)arg;
    _exit(0);
}

int main(int argc, char** argv) {
    if (argc < 4) return 2;
    const char* file = argv[1];
    const char* name = argv[2];
    int n = atoi(argv[3]);
    int batch = 100, stay = 0, classic = 0;
    for (int i = 4; i < argc; ++i) {
        if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--fork") == 0)
            classic = 1;
        else if (strcmp(argv[i], "--stay") == 0)
            stay = 1;
        else
            return 2;
    }
    if (classic) batch = 1;
    if (batch < 1 || batch > kMaxBatch || n < 0) return 2;
    const int forwarded[] = {SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; ++i)
        signal(forwarded[i], SIG_IGN);
    stamp(file, name, "begin");
    for (int made = 0; made < n; made += batch) {
        int k = n - made < batch ? n - made : batch;
        pid_t p = fork();
        if (p < 0) return 1;
        if (p == 0) {
            // The very last orphan is a witness: a fork()ed process that waits
            // until it has been re-parented and records its new parent as
            // "NAME adopted-by PPID" (PPID as seen in its PID namespace).
            const int last = made + k >= n;
            const pid_t me = getpid();
            for (int j = 0; j < k; ++j) {
                if (classic || (last && j == k - 1)) {
                    pid_t g = fork();
                    if (g < 0) _exit(1);
                    if (g == 0) {
                        if (last && j == k - 1) {
                            for (int t = 0; t < 10000 && getppid() == me; ++t) usleep(1000);
                            char what[64];
                            snprintf(what, sizeof what, "adopted-by %d", (int)getppid());
                            stamp(file, name, what);
                        }
                        _exit(0);
                    }
                } else if (clone(orphan_main, stacks[j] + kStack, CLONE_VM | SIGCHLD, NULL) < 0) {
                    _exit(1);
                }
            }
            _exit(0);
        }
        int st;
        while (waitpid(p, &st, 0) < 0) {
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return 1;
    }
    stamp(file, name, "done");
    if (stay)
        for (;;) pause();
    return 0;
}
