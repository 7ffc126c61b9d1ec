/* launch STAMPFILE PROG [ARG...]
 *
 * The benchmark's launcher: it runs as PID 1 of a fresh PID namespace
 * (`unshare -fp --mount-proc launch ...`), reads CLOCK_MONOTONIC, appends
 * "L 0 <ns>" to STAMPFILE and execs PROG (an absolute path: no PATH search)
 * in place, so the init under test keeps PID 1 and nothing (no shell, no
 * fork) sits between the stamp and its exec. The file is opened before the
 * stamp; only one small write(2) lies between the stamp and execve(2).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 3) {
        fputs("usage: launch STAMPFILE PROG [ARG...]\n", stderr);
        return 2;
    }
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror("launch: open");
        return 2;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char buf[64];
    int n =
        snprintf(buf, sizeof buf, "L 0 %lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    if (write(fd, buf, (size_t)n) != n) return 2;
    execv(argv[2], argv + 2);
    perror("launch: execv");
    return 127;
}
