// Iterative server (the notes' first TCP fib server, CS:APP's echoserveri): one connection at a
// time, on the thread that called run(). Every other client waits in the listen backlog, so a
// client that says nothing would hold the server forever; the idle timeout bounds that wait.
#include "serve/models/blocking_acceptor.hpp"
#include "serve/models/blocking_model.hpp"
#include "serve/models/blocking_session.hpp"
#include "serve/models/models.hpp"

namespace sockit::serve::models {
namespace {

using namespace blocking;

class IterativeModel : public BlockingModel {
 public:
  explicit IterativeModel(const ModelOptions& options) : reports_(options.log, options.metrics) {}

  std::string_view name() const noexcept override { return "iterative"; }

 protected:
  void serve(const Endpoint& endpoint, const Limits& limits, StopSignal& stop) override {
    const auto log = reports_.for_listener(endpoint.listener, endpoint.service);
    // One client at a time: its ticket is held while it is served (a per-source rule or an allow
    // list still applies to who gets the turn).
    accept_until_stopped(
        endpoint, stop, log, [] { return std::chrono::milliseconds(-1); },
        [&](Client client, Ticket) { serve_blocking(client.socket, client.peer, endpoint.service, limits, stop, log); });
  }

 private:
  ModelLog reports_;
};

}  // namespace

std::unique_ptr<Model> make_iterative(const ModelOptions& options) { return std::make_unique<IterativeModel>(options); }

}  // namespace sockit::serve::models
