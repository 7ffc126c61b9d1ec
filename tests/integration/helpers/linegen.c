/* linegen NAME COUNT [-e] [-b] [-B BATCH] [-c FILE]
 *
 * Writes COUNT recognizable lines "NAME SEQ PAYLOAD SUM\n" (SEQ from 0;
 * PAYLOAD is (SEQ*31)%120+8 letters 'a'+(SEQ+i)%26; SUM is the byte sum of
 * PAYLOAD mod 65521 as 4 hex digits), so a reader can check that every line
 * arrived whole, once and in order. COUNT 0 means forever.
 *
 * Output is cut into write(2) calls of exactly BATCH bytes (default 4096),
 * so lines straddle writes on purpose.
 *   -e        write to stderr instead of stdout
 *   -b        both: even SEQ to stdout, odd SEQ to stderr (one write per line)
 *   -c FILE   after every write, store the total bytes written so far in FILE
 *             (20 digits at offset 0), so a test can see a blocked writer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int counter_fd = -1;
static long long total = 0;

static void write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            _exit(3);
        }
        p += w;
        n -= (size_t)w;
        total += w;
        if (counter_fd >= 0) {
            char num[32];
            int len = snprintf(num, sizeof num, "%020lld\n", total);
            if (pwrite(counter_fd, num, (size_t)len, 0) != len) _exit(4);
        }
    }
}

static size_t make_line(char* out, const char* name, long long seq) {
    int len = (int)((seq * 31) % 120) + 8;
    size_t n = (size_t)sprintf(out, "%s %lld ", name, seq);
    unsigned sum = 0;
    for (int i = 0; i < len; ++i) {
        char c = (char)('a' + (seq + i) % 26);
        out[n++] = c;
        sum += (unsigned char)c;
    }
    n += (size_t)sprintf(out + n, " %04x\n", sum % 65521);
    return n;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: linegen NAME COUNT [-e] [-b] [-B BATCH] [-c FILE]\n");
        return 2;
    }
    const char* name = argv[1];
    long long count = atoll(argv[2]);
    int fd = 1, both = 0;
    size_t batch = 4096;
    for (int i = 3; i < argc; ++i) {
        if (!strcmp(argv[i], "-e"))
            fd = 2;
        else if (!strcmp(argv[i], "-b"))
            both = 1;
        else if (!strcmp(argv[i], "-B") && i + 1 < argc)
            batch = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
            counter_fd = open(argv[++i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (counter_fd < 0) return 1;
        } else
            return 2;
    }
    if (batch == 0) batch = 1;
    char* buf = malloc(batch + 512);
    size_t used = 0;
    char line[512];
    for (long long seq = 0; count == 0 || seq < count; ++seq) {
        size_t n = make_line(line, name, seq);
        if (both) {
            write_all(seq % 2 ? 2 : 1, line, n);
            continue;
        }
        size_t off = 0;
        while (off < n) {
            size_t take = n - off < batch - used ? n - off : batch - used;
            memcpy(buf + used, line + off, take);
            used += take;
            off += take;
            if (used == batch) {
                write_all(fd, buf, used);
                used = 0;
            }
        }
    }
    if (used) write_all(fd, buf, used);
    return 0;
}
