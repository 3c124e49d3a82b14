#include "serve/udp_guard.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace sockit::serve {
namespace {

std::string why(Refusal reason, const net::Address& source, double rate, std::chrono::nanoseconds mute) {
  const auto port = source.port();
  switch (reason) {
    case Refusal::port_zero:
      return "source port 0";
    case Refusal::this_port:
      return "it claims to come from the port it was sent to (a loop with itself)";
    case Refusal::own_port:
      return fmt::format("source port {} is another UDP port of this server (a loop between its services)", port);
    case Refusal::reflector_port:
      return fmt::format("source port {} is {} (a service that answers: a reflection loop)", port,
                         reflector_port(port).value_or("a reflector"));
    case Refusal::broadcast_source:
      return "a broadcast, unspecified or reserved source address";
    case Refusal::multicast_source:
      return "a multicast source address";
    case Refusal::rate_limited:
      return fmt::format("over {:g} replies a second to one source: muted for {:g} s", rate,
                         std::chrono::duration<double>(mute).count());
  }
  return "?";
}

void write(Log* log, const std::vector<std::string>& lines) {
  if (log)
    for (const auto& line : lines) log->notice(line);
}

}  // namespace

double UdpGuard::burst_for(double rate) noexcept { return std::max(16.0, rate / 4); }

UdpGuard::UdpGuard(const Config& config, Log* log)
    : policy_(std::make_shared<const SourcePolicy>(config.policy)),
      rate_(config.rate),
      mute_(config.mute),
      log_(log),
      limiter_({.rate = std::max(config.rate, 1e-9),
                .burst = burst_for(config.rate),
                .mute = config.mute,
                .slots = config.slots,
                .seed = 0}),
      tally_(config.quiet) {}

bool UdpGuard::admit(const net::Address& source, const Listener& where, Time now) {
  return admit(source, where, now, *policy());
}

std::shared_ptr<const SourcePolicy> UdpGuard::policy() const {
  std::lock_guard lock(mutex_);
  return policy_;
}

void UdpGuard::set_own_ports(std::vector<std::uint16_t> ports) {
  auto next = std::make_shared<SourcePolicy>(*policy());
  next->own_ports = std::move(ports);
  std::lock_guard lock(mutex_);
  policy_ = std::move(next);
}

bool UdpGuard::admit(const net::Address& source, const Listener& where, Time now, const SourcePolicy& policy) {
  const auto reason = check_source(source, where.local.port(), policy);
  if (!reason) return true;
  refuse(*reason, source, where, now);
  return false;
}

bool UdpGuard::may_reply(const net::Address& source, const Listener& where, Time now) {
  bool allowed = true;
  may_reply(std::span(&source, 1), where, now, std::span(&allowed, 1));
  return allowed;
}

void UdpGuard::may_reply(std::span<const net::Address> sources, const Listener& where, Time now,
                         std::span<bool> allowed) {
  std::fill(allowed.begin(), allowed.end(), true);
  if (rate_ <= 0) return;
  std::optional<std::size_t> started;  // the refusal that started a spell, logged outside the lock
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (limiter_.allow(source_key(sources[i]), now)) continue;
      allowed[i] = false;
      if (tally_.count(Refusal::rate_limited, now)) started = i;
    }
  }
  if (started) log_spell_start(Refusal::rate_limited, sources[*started], where);
}

void UdpGuard::refuse(Refusal reason, const net::Address& source, const Listener& where, Time now) {
  {
    std::lock_guard lock(mutex_);
    if (!tally_.count(reason, now)) return;
  }
  log_spell_start(reason, source, where);
}

void UdpGuard::log_spell_start(Refusal reason, const net::Address& source, const Listener& where) {
  if (log_)
    log_->notice(fmt::format("udp: refusing datagrams from {} to {}/udp at {}: {} ({}); the rest of this spell "
                             "is counted, not logged",
                             source.unmapped().to_string(), where.service, where.local.to_string(),
                             why(reason, source.unmapped(), rate_, mute_), refusal_name(reason)));
}

void UdpGuard::tick(Time now) {
  std::vector<std::string> lines;
  {
    std::lock_guard lock(mutex_);
    lines = tally_.end_quiet(now);
  }
  write(log_, lines);
}

void UdpGuard::finish() {
  std::vector<std::string> lines;
  {
    std::lock_guard lock(mutex_);
    lines = tally_.end_all();
  }
  write(log_, lines);
}

std::uint64_t UdpGuard::refused(Refusal reason) const {
  std::lock_guard lock(mutex_);
  return tally_.total(reason);
}

}  // namespace sockit::serve
