// The health endpoint (docs/health.md) on the libev loop: HTTP/1.1, GET and
// HEAD, keep-alive, strictly bounded (8 KiB request head -> 431, 5 s to
// send a head, 30 s keep-alive idle, 256 connections with the oldest idle
// one closed at the cap). What it answers is core/endpoint.h's to decide.
// Never blocks the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "endpoint.h"

struct ev_loop;

namespace sv {

class HttpServer {
  public:
    // `source` outlives the server.
    HttpServer(struct ev_loop* loop, StatusSource& source);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // "127.0.0.1:9180", "0.0.0.0:9180", "[::1]:9180", "localhost:9180", ":9180"
    // (all interfaces). Returns an empty string, or what went wrong
    // ("cannot listen on 127.0.0.1:9180: Address already in use").
    std::string listen(const std::string& address);

    // The bound port (useful with port 0).
    std::uint16_t port() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sv
