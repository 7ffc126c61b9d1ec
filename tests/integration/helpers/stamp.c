/* stamp FILE WORD...: appends "WORD... <CLOCK_MONOTONIC ns>\n" to FILE in one
 * write(2), so concurrent services can record ordered, timestamped events. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 3) return 2;
    char line[1024];
    size_t n = 0;
    for (int i = 2; i < argc && n < sizeof line - 64; ++i)
        n += (size_t)snprintf(line + n, sizeof line - 64 - n, "%s ", argv[i]);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    n += (size_t)snprintf(line + n, sizeof line - n, "%lld\n",
                          (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return 1;
    ssize_t w = write(fd, line, n);
    close(fd);
    return w == (ssize_t)n ? 0 : 1;
}
