// The control socket's client: see control_client.h.
#include "control_client.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli.h"
#include "commands.h"
#include "config_file.h"
#include "control_server.h"

namespace sv {

namespace {

bool exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

int unreachable(const std::string& socket, const std::string& why) {
    std::fprintf(stderr, "supervisor: cannot reach %s: %s\n", socket.c_str(), why.c_str());
    return 3;
}

namespace {

bool write_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

std::string find_control_socket(const ControlTarget& target, std::string& error, int& code) {
    if (!target.socket.empty()) return target.socket;
    std::string path = target.config;
    if (path.empty()) {
        path = resolve_config_path("");
        // No configuration anywhere: a container with nothing but the binary.
        if (!exists(path)) return control_socket_path("auto");
    }
    try {
        const Config config = load_config_file(path, /*env_files=*/false);
        if (config.supervisor.control_socket.empty()) {
            error = "the control socket is off in " + path + " (control_socket = \"\")";
            code = 3;
            return "";
        }
        return control_socket_path(config.supervisor.control_socket);
    } catch (const ConfigError& e) {
        error = e.what();
        code = 2;
        return "";
    }
}

int control_call(const std::string& socket, const ControlRequest& request,
                 std::vector<std::string>* data, bool quiet_unreachable) {
    const auto unreachable = [&](const std::string& s, const std::string& why) {
        if (!quiet_unreachable) sv::unreachable(s, why);
        return 3;
    };
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (socket.size() >= sizeof addr.sun_path) return unreachable(socket, "path too long");
    std::memcpy(addr.sun_path, socket.c_str(), socket.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return unreachable(socket, std::strerror(errno));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const int err = errno;
        ::close(fd);
        return unreachable(socket, err == ECONNREFUSED
                                       ? "Connection refused (no supervisor is listening)"
                                       : std::strerror(err));
    }
    // A server that refuses us (permission denied, too many clients) says
    // why and closes at once, maybe before our request is out: the write
    // then fails, but its answer waits to be read.
    const bool sent = write_all(fd, request.line());
    const int send_errno = errno;
    std::string buf;
    char chunk[65536];
    for (;;) {
        std::size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
            const std::string line = buf.substr(0, nl);
            buf.erase(0, nl + 1);
            const auto reply = parse_reply(line);
            if (!reply) {
                std::fprintf(stderr,
                             "supervisor: %s answered something that is not the control "
                             "protocol\n",
                             socket.c_str());
                ::close(fd);
                return 1;
            }
            switch (reply->kind) {
                case ReplyKind::Data:
                    if (data) {
                        data->push_back(reply->text);
                    } else {
                        std::fputs(reply->text.c_str(), stdout);
                        std::fputc('\n', stdout);
                        if (request.verb == ControlVerb::Logs) std::fflush(stdout);
                    }
                    break;
                case ReplyKind::Message:
                    std::fflush(stdout);
                    std::fprintf(stderr, "supervisor: %s\n", reply->text.c_str());
                    break;
                case ReplyKind::End:
                    ::close(fd);
                    std::fflush(stdout);
                    if (reply->code == 3) return unreachable(socket, reply->text);
                    if (!reply->text.empty())
                        std::fprintf(reply->code == 0 ? stdout : stderr, "%s%s\n",
                                     reply->code == 0 ? "" : "supervisor: ", reply->text.c_str());
                    return reply->code;
            }
        }
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        buf.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(fd);
    std::fflush(stdout);
    if (!sent) return unreachable(socket, std::strerror(send_errno));
    // The supervisor went away (it exited) before the end of the answer.
    if (request.verb == ControlVerb::Logs) return 0;
    std::fprintf(stderr, "supervisor: %s closed the connection before the end of the answer\n",
                 socket.c_str());
    return 1;
}

ControlRequest control_request(const CliOptions& opts) {
    ControlRequest r;
    switch (opts.command) {
        case Subcommand::Start:
            r.verb = ControlVerb::Start;
            break;
        case Subcommand::Stop:
            r.verb = ControlVerb::Stop;
            break;
        case Subcommand::Restart:
            r.verb = ControlVerb::Restart;
            break;
        case Subcommand::Signal:
            r.verb = ControlVerb::Signal;
            r.operands.push_back(opts.signal);
            break;
        case Subcommand::Reload:
            r.verb = ControlVerb::Reload;
            break;
        case Subcommand::Logs:
            r.verb = ControlVerb::Logs;
            if (opts.follow) r.options["follow"] = "yes";
            if (opts.lines) r.options["lines"] = std::to_string(*opts.lines);
            break;
        case Subcommand::Wait:
            r.verb = ControlVerb::Wait;
            break;
        case Subcommand::Shutdown:
            r.verb = ControlVerb::Shutdown;
            break;
        default:
            r.verb = ControlVerb::Status;
            break;
    }
    if (opts.no_wait) r.options["wait"] = "no";
    if (opts.timeout) r.options["timeout"] = format_duration(*opts.timeout);
    for (const std::string& n : opts.names) r.operands.push_back(n);
    return r;
}

int run_control(const CliOptions& opts) {
    std::string error;
    int code = 0;
    const std::string socket = find_control_socket({opts.socket, opts.config_path}, error, code);
    if (socket.empty()) {
        std::fprintf(stderr, "supervisor: %s\n", error.c_str());
        return code;
    }
    return control_call(socket, control_request(opts));
}

}  // namespace sv
