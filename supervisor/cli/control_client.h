// The client side of the control socket (docs/control.md): `supervisor
// start|stop|restart|signal|reload|logs|wait|shutdown` and the control half
// of `status`. One request per connection; the answer's data lines go to
// stdout, its messages to stderr as "supervisor: …", and its last line
// gives the exit code: 0 ok, 1 the operation failed, 2 usage or unknown
// service, 3 the supervisor cannot be reached (no socket, permission
// denied, nothing listening), each time saying which path.
#pragma once

#include <string>
#include <vector>

#include "control_protocol.h"

namespace sv {

struct CliOptions;

struct ControlTarget {
    std::string socket;  // --socket PATH
    std::string config;  // -c FILE
};

// Where the socket is: --socket, else -c FILE's control_socket, else the
// configuration the lookup order finds (if any), else the `auto` path. ""
// with `error` set when the configuration turns the socket off or is
// invalid (then `code` is 2 or 3).
std::string find_control_socket(const ControlTarget& target, std::string& error, int& code);

// Sends `request` to `socket` and prints the answer. `data`, when given,
// collects the data lines instead of printing them (status). Returns the
// exit code; 3 (unreachable) is said on stderr unless `quiet_unreachable`.
int control_call(const std::string& socket, const ControlRequest& request,
                 std::vector<std::string>* data = nullptr, bool quiet_unreachable = false);

// "supervisor: cannot reach PATH: why" on stderr; returns 3.
int unreachable(const std::string& where, const std::string& why);

// The request a control subcommand's options make.
ControlRequest control_request(const CliOptions& opts);

}  // namespace sv
