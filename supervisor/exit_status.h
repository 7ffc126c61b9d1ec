// How a process ended, decoded once from the wait(2) status (as dinit's
// proc_status_t), and the SPEC §4 exit-code rules in one place.
#pragma once

#include <string>

namespace sv {

struct ExitStatus {
    bool signaled = false;  // false: exited with `value` as its status
    int value = 0;          // exit status, or the signal number

    static ExitStatus exited(int code) { return {false, code}; }
    static ExitStatus killed(int sig) { return {true, sig}; }
    static ExitStatus from_wait_status(int wait_status);

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
