/* linewriter BYTES: writes BYTES bytes (rounded down to whole lines) of
 * 80-byte lines (79 characters + '\n') to stdout, in 64 KiB write(2)s, as a
 * chatty service would through a buffered stdio. Exits 0 when all was
 * written. Used by bench/log_throughput.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
    long long total = argc > 1 ? atoll(argv[1]) : (1LL << 30);
    enum { kLine = 80, kLinesPerBuf = 819 };
    static char buf[kLine * kLinesPerBuf];
    for (int i = 0; i < kLinesPerBuf; ++i) {
        char* l = buf + i * kLine;
        memset(l, 'a' + i % 26, kLine - 1);
        l[kLine - 1] = '\n';
    }
    long long lines = total / kLine;
    while (lines > 0) {
        long long n = lines < kLinesPerBuf ? lines : kLinesPerBuf;
        size_t len = (size_t)n * kLine, off = 0;
        while (off < len) {
            ssize_t w = write(1, buf + off, len - off);
            if (w < 0) return 1;
            off += (size_t)w;
        }
        lines -= n;
    }
    return 0;
}
