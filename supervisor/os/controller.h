// What the control socket's requests do (docs/control.md): the bridge
// between ControlServer's connections and the core's requests.
//
// Requests that are done at once answer at once (signal, reload, shutdown,
// status, stop --no-wait…). The others leave a watcher behind, checked after
// every event of the loop (check_waiters(), called by the shell):
//   start, restart  until every named service is ready (a oneshot: has
//                   completed), or one of them failed or ended, or --timeout
//   stop            until every named service is down
//   wait            until every named service (default: all) is ready
//   logs            a reader of the in-memory rings (core/log_ring.h): the
//                   lines kept, then, with -f, every new line as it comes;
//                   it pulls lines only while its client keeps up, so a
//                   client that never reads holds back nothing but itself,
//                   and is told how many lines it lost.
// A watcher whose client went away is simply dropped.
#pragma once

#include <ev.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "control_server.h"
#include "log_ring.h"
#include "supervisor.h"

namespace sv {

class Controller final : public ControlServer::Handler {
  public:
    // What the controller needs from the shell.
    class Host {
      public:
        virtual Supervisor& supervisor() = 0;
        virtual const LogStore& logs() = 0;
        // Re-reads the configuration file and applies it: 0 applied, 2
        // invalid (`error` is the file's FILE:LINE:COLUMN message), 1 refused.
        virtual int reload(ReloadSummary& summary, std::string& error) = 0;
        // After a request changed something: re-arm the core's timer.
        virtual void after_request() = 0;

      protected:
        ~Host() = default;
    };

    Controller(struct ev_loop* loop, Host& host);
    ~Controller();
    Controller(const Controller&) = delete;
    Controller& operator=(const Controller&) = delete;

    ControlServer& server() { return server_; }

    // After every event: settles the watchers whose outcome is known.
    void check_waiters();
    // New lines in the log rings: feeds the readers.
    void on_new_lines();

  private:
    struct Waiter;
    struct Reader;

    void on_request(ControlServer::ConnId conn, ControlRequest request) override;
    void on_closed(ControlServer::ConnId conn) override;
    void on_drained(ControlServer::ConnId conn) override;

    void status(ControlServer::ConnId conn, const ControlRequest& r);
    void act(ControlServer::ConnId conn, const ControlRequest& r);
    void logs(ControlServer::ConnId conn, const ControlRequest& r);
    void pump(Reader& reader);
    // True when the waiter is settled (answered).
    bool settle(Waiter& w, bool timed_out);
    static void on_timeout(struct ev_loop*, ev_timer* w, int) noexcept;
    // Forgets the watchers of connections that closed. on_closed() only
    // notes them: it is called from deep inside send() and finish(), while
    // a watcher of that very connection may be in use.
    void collect();

    struct ev_loop* loop_;
    Host& host_;
    ControlServer server_;
    std::map<ControlServer::ConnId, std::unique_ptr<Waiter>> waiters_;
    std::map<ControlServer::ConnId, std::unique_ptr<Reader>> readers_;
    std::vector<ControlServer::ConnId> closed_;
};

}  // namespace sv
