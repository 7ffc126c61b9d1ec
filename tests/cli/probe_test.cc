// `supervisor probe` in-process: its command line (cli.h), where it connects
// (a wildcard listen address on loopback) and the bounded GET of
// cli/http_client.h against sockets of this test: an answer, a refusal, and
// a server that accepts but never answers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cli.h"
#include "http_client.h"
#include "usage.h"

namespace sv {
namespace {

TEST(ProbeArgs, DefaultsToHealthzAndFiveSecondsLater) {
    CliOptions o = parse_cli({"probe"});
    EXPECT_EQ(o.command, Subcommand::Probe);
    EXPECT_EQ(o.probe_endpoint, "healthz");
    EXPECT_FALSE(o.timeout.has_value());
}

TEST(ProbeArgs, TakesOneEndpointAndItsOptions) {
    CliOptions o = parse_cli({"probe", "livez", "--addr", "127.0.0.1:1", "--timeout=250ms"});
    EXPECT_EQ(o.probe_endpoint, "livez");
    EXPECT_EQ(o.addr, "127.0.0.1:1");
    EXPECT_EQ(o.timeout, Duration(250));
    o = parse_cli({"probe", "-c", "x.toml", "readyz"});
    EXPECT_EQ(o.probe_endpoint, "readyz");
    EXPECT_EQ(o.config_path, "x.toml");
}

TEST(ProbeArgs, RefusesWhatIsNotAProbe) {
    const std::vector<std::vector<std::string>> bad = {
        {"probe", "startz"},           {"probe", "readyz", "livez"},
        {"probe", "--timeout", "x"},   {"probe", "--timeout", "0"},
        {"probe", "--json"},           {"probe", "-c", "a", "--addr", "b:1"},
        {"status", "--timeout", "1s"}, {"probe", "--", "sh"},
    };
    for (const auto& args : bad) EXPECT_THROW(parse_cli(args), UsageError) << args[1];
}

TEST(ProbeArgs, HasItsHelp) {
    CliOptions o = parse_cli({"probe", "--help"});
    EXPECT_EQ(o.command, Subcommand::Help);
    EXPECT_NE(o.help_text.find("supervisor probe"), std::string::npos);
    EXPECT_NE(main_usage().find("supervisor probe"), std::string::npos);
    EXPECT_TRUE(is_subcommand_word("probe"));
}

TEST(HttpTarget, WildcardsAreReachedOnLoopback) {
    EXPECT_EQ(http_target("0.0.0.0:9180")->where, "127.0.0.1:9180");
    EXPECT_EQ(http_target(":9180")->where, "127.0.0.1:9180");
    EXPECT_EQ(http_target("[::]:9180")->where, "[::1]:9180");
    EXPECT_EQ(http_target("[::1]:80")->host, "::1");
    EXPECT_EQ(http_target("localhost:80")->where, "localhost:80");
    EXPECT_FALSE(http_target("nonsense").has_value());
}

// A listening socket on 127.0.0.1; `answer` is sent to the first client
// after its request head, or nothing at all when empty.
class Server {
  public:
    explicit Server(std::string answer) : answer_(std::move(answer)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), len), 0);
        EXPECT_EQ(::listen(fd_, 4), 0);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        if (!answer_.empty()) thread_ = std::thread([this] { serve(); });
    }
    ~Server() {
        join();
        ::close(fd_);
    }
    // The request the client sent (after the exchange).
    const std::string& request() {
        join();
        return request_;
    }
    HttpTarget target() const { return *http_target("127.0.0.1:" + std::to_string(port_)); }

  private:
    void join() {
        if (thread_.joinable()) thread_.join();
    }
    void serve() {
        const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        std::string got;
        char buf[4096];
        while (got.find("\r\n\r\n") == std::string::npos) {
            const ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        request_ = got;
        (void)::send(c, answer_.data(), answer_.size(), MSG_NOSIGNAL);
        ::close(c);
    }

    std::string answer_;
    int fd_ = -1;
    int port_ = 0;
    std::thread thread_;
    std::string request_;
};

TEST(HttpGet, ReadsStatusAndBody) {
    Server s("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 7\r\n\r\n[-]api\nextra");
    HttpResult a = http_get(s.target(), "/healthz?verbose", "text/plain", Duration(5000));
    ASSERT_EQ(a.outcome, HttpResult::Outcome::Answered) << a.error;
    EXPECT_EQ(a.status, 503);
    EXPECT_EQ(a.status_text, "503 Service Unavailable");
    EXPECT_EQ(a.body, "[-]api\n");
}

TEST(HttpGet, SendsOneRequestThatClosesTheConnection) {
    Server s("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
    HttpResult a = http_get(s.target(), "/livez?verbose", "text/plain", Duration(5000));
    ASSERT_EQ(a.outcome, HttpResult::Outcome::Answered) << a.error;
    EXPECT_EQ(a.status, 200);
    const std::string& r = s.request();
    EXPECT_EQ(r.rfind("GET /livez?verbose HTTP/1.1\r\n", 0), 0u) << r;
    EXPECT_NE(r.find("\r\nConnection: close\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("\r\nHost: 127.0.0.1:"), std::string::npos) << r;
}

TEST(HttpGet, NotHttpIsSaid) {
    Server s("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    EXPECT_EQ(http_get(s.target(), "/healthz", "text/plain", Duration(5000)).outcome,
              HttpResult::Outcome::NotHttp);
}

TEST(HttpGet, RefusedIsSaid) {
    HttpTarget t;
    {
        Server s("");
        t = s.target();
    }  // closed: nothing listens on the port any more
    HttpResult a = http_get(t, "/healthz", "text/plain", Duration(5000));
    EXPECT_EQ(a.outcome, HttpResult::Outcome::Unreachable);
    EXPECT_EQ(a.error, "Connection refused");
}

TEST(HttpGet, ASilentServerCostsTheTimeoutOnly) {
    Server s("");  // the kernel accepts into the backlog; nobody ever answers
    const auto t0 = std::chrono::steady_clock::now();
    HttpResult a = http_get(s.target(), "/healthz", "text/plain", Duration(300));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(a.outcome, HttpResult::Outcome::NoAnswer);
    EXPECT_EQ(a.error, "no answer within 300ms");
    EXPECT_GE(took, std::chrono::milliseconds(290));
    EXPECT_LT(took, std::chrono::milliseconds(1300));
}

}  // namespace
}  // namespace sv
