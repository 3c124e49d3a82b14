#include "tools/scan_pacing.hpp"

#include <algorithm>

namespace sockit::tools {

UdpPacer::UdpPacer(const std::vector<std::uint16_t>& ports, int retries, double rate)
    : retries_(retries), user_rate_(rate), rate_(rate) {
  for (auto port : ports) unsure_[port] = Unsure{};
}

bool UdpPacer::slowed() const { return rate_ > 0 && rate_ != user_rate_; }

std::chrono::duration<double> UdpPacer::shortest_round() const {
  if (!slowed()) return std::chrono::duration<double>(0);
  return std::chrono::duration<double>(rate_measured_ ? 1 / rate_ : kTokenPeriod);
}

std::vector<std::uint16_t> UdpPacer::next_round() const {
  std::vector<std::uint16_t> ports;
  ports.reserve(unsure_.size());
  for (const auto& [port, state] : unsure_) ports.push_back(port);
  return ports;
}

void UdpPacer::settle(std::uint16_t port, PortState state, const char* reason, int attempts) {
  PortResult result;
  result.port = port;
  result.state = state;
  result.reason = reason;
  result.attempts = attempts;
  settled_[port] = std::move(result);
  unsure_.erase(port);
}

void UdpPacer::record_round(const std::vector<PortResult>& round, std::chrono::duration<double> took,
                            bool interrupted) {
  int answered = 0;
  std::vector<std::uint16_t> silent;
  for (const auto& r : round) {
    auto it = unsure_.find(r.port);
    if (it == unsure_.end()) continue;
    const int probes = ++it->second.probes;
    if (r.state == PortState::open_filtered) {
      silent.push_back(r.port);
      continue;
    }
    ++answered;
    PortResult result = r;
    result.attempts = probes;
    settled_[r.port] = std::move(result);
    unsure_.erase(it);
  }
  if (interrupted) return;
  // A round without any answer means silence only if the target earned an ICMP token during
  // it: always, unless a rate limit was seen; then it must have lasted shortest_round().
  bool meaningful = false;
  if (answered == 0) {
    meaningful = took.count() >= 0.999 * shortest_round().count();
  } else {
    meaningful = rate_measured_ && rate_ > 0;
    if (!meaningful) {
      const double seen = 0.9 * answered / std::max(took.count(), 0.001);
      const bool paced = rate_ > 0;
      rate_ = std::max(kSlowestRate, paced ? std::min(rate_ / 2, seen) : seen);
      if (user_rate_ > 0) rate_ = std::min(rate_, user_rate_);
      rate_measured_ = paced;
    }
  }
  for (auto port : silent) {
    Unsure& unsure = unsure_[port];
    if (meaningful) ++unsure.silent_rounds;
    if (unsure.silent_rounds > retries_) settle(port, PortState::open_filtered, "no-response", unsure.probes);
    else if (unsure.probes >= kMaxRounds) settle(port, PortState::open_filtered, "rate-limited", unsure.probes);
  }
}

std::vector<PortResult> UdpPacer::results() const {
  std::vector<PortResult> results;
  results.reserve(settled_.size());
  for (const auto& [port, result] : settled_) results.push_back(result);
  return results;
}

}  // namespace sockit::tools
