/* stamp_first STAMPFILE TAG MODE [N]
 *
 * The benchmark's service. Its first act in main() is to read
 * CLOCK_MONOTONIC; it then appends "S <TAG> <ns>" to STAMPFILE (O_APPEND, one
 * write, so 50 services may share the file). It is linked statically when
 * the toolchain allows it, so no dynamic loader runs before that stamp.
 *
 * Invoked with no arguments (as `./run` by s6-supervise or runsv, through a
 * symlink in the service directory) it reads "STAMPFILE TAG MODE [N]" from
 * ./bench.args, after the stamp.
 *
 * MODE:
 *   exit      exit 0 at once
 *   wait      pause until a signal; on SIGTERM append "T <TAG> <ns>" and die
 *             of SIGTERM as its default action would (status 143)
 *   orphans N the orphan storm: create N orphans by double fork (an
 *             intermediate forks a batch of 100 and exits, so they are
 *             re-parented to PID 1), wait until all N block on one pipe, close
 *             it so all exit at the same moment, then sample until PID 1 has
 *             reaped them all.
 *             Appends "R <TAG> <release_to_all_reaped_ns> <max_zombies>
 *             <pid1_cpu_ns> <create_ns> <created>" and then waits like `wait`.
 *
 * Zombies in the storm: each sample is one pass over this PID namespace's
 * /proc counting the processes in state Z (exact per process, but a pass
 * over thousands of processes takes milliseconds, so brief peaks between
 * samples are missed). The storm is over when every orphan has counted itself
 * out (shared memory, just before _exit) and /proc lists no more processes
 * than before it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void append_line(const char* path, const char* line) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    ssize_t ignored = write(fd, line, strlen(line));
    (void)ignored;
    close(fd);
}

/* Processes in this PID namespace (the /proc that unshare --mount-proc mounted). */
static long count_processes(void) {
    DIR* d = opendir("/proc");
    if (!d) return -1;
    long n = 0;
    struct dirent* e;
    while ((e = readdir(d)) != NULL)
        if (isdigit((unsigned char)e->d_name[0])) ++n;
    closedir(d);
    return n;
}

/* Zombies in this PID namespace right now: processes whose /proc/PID/stat
 * state is Z (exact per process; one pass over /proc takes a few ms with
 * thousands of processes). */
static long count_zombies(void) {
    DIR* d = opendir("/proc");
    if (!d) return -1;
    long z = 0;
    struct dirent* e;
    char path[300], buf[512];
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0) continue;
        buf[n] = '\0';
        const char* rp = strrchr(buf, ')');
        if (rp && rp[1] == ' ' && rp[2] == 'Z') ++z;
    }
    closedir(d);
    return z;
}

/* CPU time PID 1 has used, in ns: schedstat's first field (exact), else
 * utime + stime from /proc/1/stat (clock ticks). */
static long long pid1_cpu_ns(void) {
    char buf[1024];
    int fd = open("/proc/1/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n > 0) {
            buf[n] = '\0';
            return atoll(buf);
        }
    }
    fd = open("/proc/1/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    char* p = strrchr(buf, ')');
    if (!p) return -1;
    unsigned long long ut = 0, st = 0;
    /* after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
     */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)((ut + st) * (1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK)));
}

static void wait_forever(void) {
    for (;;) pause();
}

/* On SIGTERM: append "T <TAG> <ns>" (so the driver can tell a graceful stop
 * from a SIGKILL), then die of SIGTERM as the default action would (143). */
static char g_file[4096], g_tag[64];

static void on_term(int sig) {
    const long long t = now_ns();
    char line[128];
    size_t k = 0;
    line[k++] = 'T';
    line[k++] = ' ';
    for (const char* p = g_tag; *p && k < 80; ++p) line[k++] = *p;
    line[k++] = ' ';
    char digits[24];
    int nd = 0;
    long long v = t;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && nd < 20);
    while (nd > 0) line[k++] = digits[--nd];
    line[k++] = '\n';
    int fd = open(g_file, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t ignored = write(fd, line, k);
        (void)ignored;
        close(fd);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int storm(const char* file, const char* tag, long n) {
    int* shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) return 1;
    int *ready = &shm[0], *exited = &shm[1];
    int p[2];
    if (pipe(p) < 0) return 1;
    const long long cpu0 = pid1_cpu_ns();
    const long long t0 = now_ns();
    long created = 0;
    /* Each intermediate forks a batch of grandchildren and exits, which
     * orphans them (a double fork with half the forks of one intermediate
     * per orphan); it exits with the number it could not create. */
    const long batch = 100;
    for (long i = 0; i < n; i += batch) {
        const long k = n - i < batch ? n - i : batch;
        pid_t c = fork();
        if (c < 0) break;
        if (c == 0) {
            long made = 0;
            for (; made < k; ++made) {
                pid_t g = fork();
                if (g < 0) break;
                if (g == 0) {
                    close(p[1]);
                    __atomic_add_fetch(ready, 1, __ATOMIC_SEQ_CST);
                    char ch;
                    while (read(p[0], &ch, 1) < 0 && errno == EINTR) {
                    }
                    __atomic_add_fetch(exited, 1, __ATOMIC_SEQ_CST);
                    _exit(0);
                }
            }
            _exit((int)(k - made));
        }
        int st;
        while (waitpid(c, &st, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(st)) break;
        created += k - WEXITSTATUS(st);
        if (WEXITSTATUS(st) != 0) break;
    }
    const struct timespec tick = {0, 100000};
    const long long limit = now_ns() + 30LL * 1000000000LL;
    while (__atomic_load_n(ready, __ATOMIC_SEQ_CST) < created && now_ns() < limit)
        nanosleep(&tick, NULL);
    const long long t_create = now_ns() - t0;
    const long base = count_processes() - created; /* everything but the orphans */
    const long long t_release = now_ns();
    close(p[1]);
    long max_z = 0;
    long long t_done = -1;
    const struct timespec sample_gap = {0, 50000};
    const long long deadline = t_release + 60LL * 1000000000LL;
    while (now_ns() < deadline) {
        const long z = count_zombies();
        if (z > max_z) max_z = z;
        const long alive = created - __atomic_load_n(exited, __ATOMIC_SEQ_CST);
        const long procs = count_processes();
        if (alive == 0 && procs <= base) {
            t_done = now_ns();
            break;
        }
        nanosleep(&sample_gap, NULL);
    }
    const long long cpu1 = pid1_cpu_ns();
    char line[256];
    snprintf(line, sizeof line, "R %s %lld %ld %lld %lld %ld\n", tag,
             t_done < 0 ? -1LL : t_done - t_release, max_z,
             (cpu0 < 0 || cpu1 < 0) ? -1LL : cpu1 - cpu0, t_create, created);
    append_line(file, line);
    return 0;
}

int main(int argc, char** argv) {
    const long long t = now_ns();
    char a_file[4096], a_tag[64], a_mode[32];
    long n = 0;
    if (argc >= 4) {
        snprintf(a_file, sizeof a_file, "%s", argv[1]);
        snprintf(a_tag, sizeof a_tag, "%s", argv[2]);
        snprintf(a_mode, sizeof a_mode, "%s", argv[3]);
        if (argc >= 5) n = atol(argv[4]);
    } else {
        FILE* f = fopen("bench.args", "r");
        if (!f || fscanf(f, "%4095s %63s %31s %ld", a_file, a_tag, a_mode, &n) < 3) {
            fputs("stamp_first: usage: stamp_first STAMPFILE TAG MODE [N] (or ./bench.args)\n",
                  stderr);
            return 2;
        }
        fclose(f);
    }
    snprintf(g_file, sizeof g_file, "%s", a_file);
    snprintf(g_tag, sizeof g_tag, "%s", a_tag);
    if (strcmp(a_mode, "exit") != 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigaction(SIGTERM, &sa, NULL);
    }
    char line[128];
    snprintf(line, sizeof line, "S %s %lld\n", a_tag, t);
    append_line(a_file, line);
    if (strcmp(a_mode, "exit") == 0) return 0;
    if (strcmp(a_mode, "orphans") == 0) {
        if (storm(a_file, a_tag, n) != 0) return 1;
        wait_forever();
    }
    wait_forever();
    return 0;
}
