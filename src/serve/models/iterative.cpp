// Iterative server (the notes' first TCP fib server, CS:APP's echoserveri): one connection at a
// time, on the thread that called run(). Every other client waits in the listen backlog, so a
// client that says nothing would hold the server forever; the idle timeout bounds that wait.
#include "serve/models/blocking_acceptor.hpp"
#include "serve/models/blocking_session.hpp"
#include "serve/models/models.hpp"

namespace sockit::serve::models {
namespace {

using namespace blocking;

class IterativeModel : public Model {
 public:
  explicit IterativeModel(const ModelOptions& options) : log_(options.log) {}

  std::string_view name() const noexcept override { return "iterative"; }

  void run(net::Socket& listener, const Service& service, const Limits& limits, StopSignal& stop) override {
    const auto log = ModelLog(log_).for_listener(listener, service);
    accept_until_stopped(
        listener, stop, log_, [] { return std::chrono::milliseconds(-1); },
        [&](Client client) {
          // --max-conns of 0 refuses everyone; any other limit is never reached one at a time.
          if (limits.max_conns == 0) return refuse(std::move(client), limits.max_conns, log);
          serve_blocking(client.socket, client.peer, service, limits, stop, log);
        });
  }

 private:
  Log* log_;
};

}  // namespace

std::unique_ptr<Model> make_iterative(const ModelOptions& options) { return std::make_unique<IterativeModel>(options); }

}  // namespace sockit::serve::models
