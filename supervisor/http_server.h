// The health endpoint (SPEC §5) on the libev loop: HTTP/1.1, GET and HEAD,
// keep-alive, strictly bounded (8 KiB request head -> 431, 5 s to send a
// head, 30 s keep-alive idle, 256 connections with the oldest idle one
// closed at the cap). Routes /livez /readyz /healthz /status /metrics to the
// pure renderers in status_render.h. Never blocks the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "status_render.h"

struct ev_loop;

namespace sv {

class HttpServer {
  public:
    using SnapshotFn = std::function<Snapshot()>;

    HttpServer(struct ev_loop* loop, SnapshotFn snapshot);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // "127.0.0.1:9180", "0.0.0.0:9180", "[::1]:9180", "localhost:9180", ":9180"
    // (all interfaces). Returns an empty string, or what went wrong
    // ("cannot listen on 127.0.0.1:9180: Address already in use").
    std::string listen(const std::string& address);

    // Optional fast path for /readyz and /healthz without ?verbose: a cheap
    // "all ready?" answer, so that probes (and benchmarks) do not build a
    // whole Snapshot per request. Must agree with snapshot().all_ready().
    // When it says false, the snapshot is built anyway for the 503 body.
    void set_ready_check(std::function<bool()> ready);

    // The bound port (useful with port 0).
    std::uint16_t port() const;

    // Number of open client connections.
    std::size_t connections() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Splits "host:port" / "[v6]:port" / ":port". Returns false when malformed.
bool split_host_port(const std::string& address, std::string& host, std::string& port);

}  // namespace sv
