/* orphans N [--stay]: makes N orphans. For each, an intermediate child forks
 * a grandchild and exits at once; the grandchild (now re-parented to the
 * nearest subreaper or PID 1) exits immediately. With --stay the program then
 * sleeps until signalled, else it exits 0 after all intermediates are reaped. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100;
    int stay = argc > 2 && strcmp(argv[2], "--stay") == 0;
    for (int i = 0; i < n; ++i) {
        pid_t p = fork();
        if (p < 0) return 1;
        if (p == 0) {
            pid_t g = fork();
            if (g == 0) _exit(0);
            _exit(0);
        }
        while (waitpid(p, NULL, 0) < 0) {
        }
    }
    if (stay) pause();
    return 0;
}
