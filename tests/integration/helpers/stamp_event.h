/* stamp(FILE, NAME, WHAT): appends "NAME WHAT <CLOCK_MONOTONIC ns>\n" to FILE
 * in one write(2) (O_APPEND), the event format the integration tests read
 * (conftest.read_events). Shared by the helper programs; async-signal-safe
 * apart from snprintf, which the helpers only call outside handlers or
 * after fork in a single-threaded child. */
#pragma once
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static inline void stamp(const char* file, const char* name, const char* what) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char line[256];
    int n = snprintf(line, sizeof line, "%s %s %lld\n", name, what,
                     (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (write(fd, line, (size_t)n) < 0) {
        }
        close(fd);
    }
}
