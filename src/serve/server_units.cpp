#include "serve/server_units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <thread>

#include "serve/models/pool.hpp"
#include "serve/udp.hpp"

namespace sockit::serve {

Unit::~Unit() { join(); }

void Unit::start() {
  thread_ = std::thread([this] {
    try {
      serve(stop_);
    } catch (const std::exception& e) {  // a thread must not throw: say why it stopped
      if (auto* out = log()) out->notice(fmt::format("{} stopped: {}", what(), e.what()));
    }
    finished_.store(true, std::memory_order_release);
  });
}

void Unit::join() {
  if (!thread_.joinable()) return;
  if (!finished()) stop();  // a unit being destroyed while it serves: end it first
  thread_.join();
}

TcpGroup::TcpGroup(const std::string& model, unsigned threads, bool offload, std::vector<TcpMember> members,
                   std::chrono::milliseconds grace_period, Metrics* metrics, Log* log)
    : model_name_(model),
      threads_(threads),
      offload_(offload),
      model_(make_model(model, {.threads = threads, .offload = offload, .log = log, .metrics = metrics})),
      members_(std::move(members)),
      log_(log) {
  if (!model_)
    throw ConfigError(fmt::format("model '{}' is unknown or not available in this build (available: {})", model,
                                  fmt::join(available_models(), " ")));
  limits_.grace_period = grace_period;
  for (auto& member : members_)
    for (auto& socket : member.sockets)
      endpoints_.push_back({*socket, *member.service, &member.config.limits, member.admission.get()});
}

// Joined here, not in ~Unit: serve() uses this object's members until it returns.
TcpGroup::~TcpGroup() { join(); }

bool TcpGroup::same_as(const TcpGroup& other) const {
  if (model_name_ != other.model_name_ || threads_ != other.threads_ || offload_ != other.offload_ ||
      members_.size() != other.members_.size())
    return false;
  for (std::size_t i = 0; i < members_.size(); ++i)
    if (!(members_[i].config == other.members_[i].config) || members_[i].sockets != other.members_[i].sockets)
      return false;
  return true;
}

void TcpGroup::serve(StopSignal& stop) { model_->run_all(endpoints_, limits_, stop); }

UdpUnit::UdpUnit(ServiceConfig config, std::shared_ptr<const DatagramService> service,
                 std::vector<std::shared_ptr<net::Socket>> sockets, UdpGuard& guard, Log* log)
    : config_(std::move(config)), service_(std::move(service)), sockets_(std::move(sockets)), guard_(guard), log_(log) {}

UdpUnit::~UdpUnit() { join(); }

void UdpUnit::serve(StopSignal& stop) {
  std::vector<const net::Socket*> sockets;
  for (const auto& socket : sockets_) sockets.push_back(socket.get());
  serve_udp(sockets, *service_, threads(), config_.limits, guard_, stop, log_);
}

unsigned tcp_threads(std::string_view model, unsigned threads) {
  if (model == "fork" || model == "thread") return 0;
  if (model == "iterative") return 1;
  if (model == "pool") return threads ? threads : models::pool_default_threads();
  if (model == "epoll" || model == "uring") return threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  return threads ? threads : 1;
}

}  // namespace sockit::serve
