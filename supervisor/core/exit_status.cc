#include "exit_status.h"

#include <cerrno>

#include "signals.h"

namespace sv {

std::string ExitStatus::describe() const {
    if (signaled) return "killed by signal " + signal_name(value);
    return "exited with status " + std::to_string(value);
}

int exec_failure_exit_code(int error_number) {
    // Emulate what sh and tini do: "not found" is 127, "found but not
    // executable" (EACCES, ENOEXEC, …) is 126.
    return (error_number == ENOENT || error_number == ENOTDIR) ? 127 : 126;
}

}  // namespace sv
