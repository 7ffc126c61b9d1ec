// Listening TCP sockets for an address as users write it (core/address.h):
// "127.0.0.1:9180", "0.0.0.0:9180", "[::1]:9180", "localhost:9180", ":9180"
// (every interface, IPv4 and IPv6 alike). Non-blocking, close-on-exec.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sv {

struct Listening {
    std::vector<int> fds;    // one per address family bound
    std::uint16_t port = 0;  // the bound port (useful with port 0)
    std::string error;       // "cannot listen on 127.0.0.1:9180: Address already in use"
};

Listening listen_tcp(const std::string& address, int backlog);

}  // namespace sv
