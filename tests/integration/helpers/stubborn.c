/* stubborn FILE NAME [--grandchild]: ignores SIGTERM (and SIGINT), records
 * "NAME started" through FILE, and with --grandchild also forks a grandchild
 * that ignores SIGTERM too and records "NAME-grandchild started". Both then
 * wait forever: only SIGKILL ends them. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stamp_event.h"

int main(int argc, char** argv) {
    if (argc < 3) return 2;
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    if (argc > 3 && strcmp(argv[3], "--grandchild") == 0) {
        pid_t p = fork();
        if (p == 0) {
            char name[200];
            snprintf(name, sizeof name, "%s-grandchild", argv[2]);
            stamp(argv[1], name, "started");
            for (;;) pause();
        }
    }
    stamp(argv[1], argv[2], "started");
    for (;;) pause();
}
