// /proc readers: see proc.h.
#include "proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

namespace sv {

namespace {

bool all_digits(const char* s) {
    if (!*s) return false;
    for (; *s; ++s)
        if (*s < '0' || *s > '9') return false;
    return true;
}

}  // namespace

std::optional<ProcStat> read_proc_stat(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    char buf[512];
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return std::nullopt;
    buf[n] = '\0';
    const char* close = std::strrchr(buf, ')');
    if (!close) return std::nullopt;
    ProcStat st;
    int ppid = 0;
    if (std::sscanf(close + 1, " %c %d", &st.state, &ppid) != 2) return std::nullopt;
    st.ppid = static_cast<pid_t>(ppid);
    return st;
}

std::vector<pid_t> descendants_of(pid_t root) {
    std::map<pid_t, std::vector<pid_t>> children;
    if (DIR* d = ::opendir("/proc")) {
        while (struct dirent* e = ::readdir(d)) {
            if (!all_digits(e->d_name)) continue;
            const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
            if (auto st = read_proc_stat(pid)) children[st->ppid].push_back(pid);
        }
        ::closedir(d);
    }
    std::vector<pid_t> out;
    std::vector<pid_t> todo{root};
    while (!todo.empty()) {
        const pid_t p = todo.back();
        todo.pop_back();
        for (pid_t c : children[p]) {
            out.push_back(c);
            todo.push_back(c);
        }
    }
    return out;
}

}  // namespace sv
