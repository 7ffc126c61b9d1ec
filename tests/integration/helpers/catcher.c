/* catcher FILE NAME [--grandchild] [--exit-on SIG|none]: records every
 * SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH and SIGTERM it receives
 * as "NAME SIGNAME <CLOCK_MONOTONIC ns>" through FILE (one write(2) each), and
 * "NAME started <ns>" once it is ready to catch them. It exits 0 on the
 * --exit-on signal (default SIGTERM; "none": only SIGKILL ends it).
 * With --grandchild it first forks a child in its own process group that does
 * the same as "NAME-grandchild": a grandchild of the supervisor. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stamp_event.h"

static const struct {
    int sig;
    const char* name;
} kSignals[] = {{SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
                {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"}, {SIGWINCH, "SIGWINCH"},
                {SIGTERM, "SIGTERM"}};

static int parse_signal(const char* s) {
    if (strcmp(s, "none") == 0) return 0;
    for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i)
        if (strcmp(s, kSignals[i].name) == 0 || strcmp(s, kSignals[i].name + 3) == 0)
            return kSignals[i].sig;
    return -1;
}

int main(int argc, char** argv) {
    if (argc < 3) return 2;
    const char* file = argv[1];
    const char* name = argv[2];
    char gname[256];
    int grandchild = 0, exit_on = SIGTERM;
    for (int i = 3; i < argc; ++i) {
        if (strcmp(argv[i], "--grandchild") == 0) {
            grandchild = 1;
        } else if (strcmp(argv[i], "--exit-on") == 0 && i + 1 < argc) {
            exit_on = parse_signal(argv[++i]);
            if (exit_on < 0) return 2;
        } else {
            return 2;
        }
    }
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i)
        sigaddset(&set, kSignals[i].sig);
    sigprocmask(SIG_BLOCK, &set, NULL);  // inherited by the grandchild: nothing is lost
    if (grandchild) {
        pid_t p = fork();
        if (p < 0) return 1;
        if (p == 0) {
            snprintf(gname, sizeof gname, "%.200s-grandchild", name);
            name = gname;
        }
    }
    stamp(file, name, "started");
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&set, &info);
        if (sig < 0) continue;
        for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i)
            if (kSignals[i].sig == sig) stamp(file, name, kSignals[i].name);
        if (sig == exit_on) return 0;
    }
}
