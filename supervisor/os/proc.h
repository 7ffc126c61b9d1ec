// Reading /proc: the one place that parses /proc/PID/stat.
//
// The second field (the command name) may hold spaces and parentheses, so
// the fields after it are read from after the last ')'.
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

namespace sv {

struct ProcStat {
    char state = 0;  // 'R', 'S', 'Z', …
    pid_t ppid = 0;
};

// /proc/PID/stat, or nullopt when the process is gone (or /proc is absent).
std::optional<ProcStat> read_proc_stat(pid_t pid);

// Every living descendant of `root`, found through the ppid links of one
// scan of /proc (parents before their children).
std::vector<pid_t> descendants_of(pid_t root);

}  // namespace sv
