// How a process ended (as dinit's proc_status_t): the OS layer decodes the
// wait(2) status once into this value (os/wait_status.h), and the core only
// ever sees it. The exit-code conventions of docs/lifecycle.md live here.
#pragma once

#include <string>

namespace sv {

struct ExitStatus {
    bool signaled = false;  // false: exited with `value` as its status
    int value = 0;          // exit status, or the signal number

    static ExitStatus exited(int code) { return {false, code}; }
    static ExitStatus killed(int sig) { return {true, sig}; }

    // The shell convention: the status, or 128 + the signal number.
    int code() const { return signaled ? 128 + value : value; }

    // "exited with status 3" / "killed by signal SIGKILL".
    std::string describe() const;

    bool operator==(const ExitStatus&) const = default;
};

// Single-command mode, exec failure: 127 when the command was not found
// (ENOENT, ENOTDIR), 126 when it exists but could not be executed, as
// tini and shells do.
int exec_failure_exit_code(int error_number);

}  // namespace sv
