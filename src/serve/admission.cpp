#include "serve/admission.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <utility>

#include "net/text.hpp"

namespace sockit::serve {
namespace {

SourceRateLimiter::Config rate_config(const AdmissionRules& rules) {
  // A second's worth at once: a client may open `rate` connections together, then `rate` a second.
  return {.rate = rules.rate, .burst = std::max(1.0, rules.rate), .mute = rules.rate_cooldown, .slots = 4096,
          .seed = 0};
}

}  // namespace

bool ConnectionBudget::take() noexcept {
  if (open_.fetch_add(1, std::memory_order_relaxed) < max_.load(std::memory_order_relaxed)) return true;
  open_.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

Ticket::Ticket(Ticket&& other) noexcept
    : admission_(std::exchange(other.admission_, nullptr)),
      server_(other.server_),
      source_slot_(other.source_slot_),
      refused_(std::move(other.refused_)) {}

Ticket& Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    if (admission_) admission_->give_back(*this);
    admission_ = std::exchange(other.admission_, nullptr);
    server_ = other.server_;
    source_slot_ = other.source_slot_;
    refused_ = std::move(other.refused_);
  }
  return *this;
}

Ticket::~Ticket() {
  if (admission_) admission_->give_back(*this);
}

Admission::Admission(const AdmissionRules& rules, std::shared_ptr<ConnectionBudget> server)
    : server_(std::move(server)) {
  set_rules(rules);
}

Admission::~Admission() = default;

void Admission::set_rules(const AdmissionRules& rules) {
  std::lock_guard lock(mutex_);
  if (rules.per_source > 0 && !sources_) sources_ = std::make_unique<SourceCounts>();
  const bool same_rate = rates_ && rules.rate == rules_.rate && rules.rate_cooldown == rules_.rate_cooldown;
  if (rules.rate <= 0)
    rates_.reset();
  else if (!same_rate)
    rates_ = std::make_unique<SourceRateLimiter>(rate_config(rules));
  rules_ = rules;
}

AdmissionRules Admission::rules() const {
  std::lock_guard lock(mutex_);
  return rules_;
}

std::size_t Admission::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

std::size_t Admission::memory_bytes() const {
  std::lock_guard lock(mutex_);
  return (sources_ ? sources_->memory_bytes() : 0) + (rates_ ? rates_->memory_bytes() : 0);
}

std::optional<Refused> Admission::check(const net::Address& peer, const SourceKey& source, Clock::time_point now) {
  if (auto rule = rules_.access.refusal(peer))
    return Refused{ConnectionRefusal::denied, "address not allowed", std::move(*rule)};
  if (rates_ && !rates_->allow(source, now))
    return Refused{ConnectionRefusal::rate,
                   fmt::format("over {:g} connections a second from this address: refused for {}", rules_.rate,
                               duration_text(rules_.rate_cooldown.count())),
                   {}};
  if (open_ >= rules_.max_conns)
    return Refused{ConnectionRefusal::max_conns,
                   fmt::format("{} to this service already (max_conns)", net::counted(rules_.max_conns, "connection")),
                   {}};
  return std::nullopt;
}

Ticket Admission::admit(const net::Address& peer, Clock::time_point now) {
  const SourceKey source = source_key(peer);
  std::lock_guard lock(mutex_);
  if (auto refused = check(peer, source, now)) return Ticket(std::move(*refused));
  std::optional<std::size_t> slot;
  if (sources_) {
    slot = sources_->acquire(source, rules_.per_source > 0 ? rules_.per_source : kNoLimit);
    if (!slot)
      return Ticket(Refused{ConnectionRefusal::per_source,
                            fmt::format("{} from this address already (per_source)",
                                        net::counted(rules_.per_source, "connection")),
                            {}});
  }
  const bool server = server_ != nullptr;
  if (server && !server_->take()) {
    if (slot) sources_->release(*slot);
    return Ticket(Refused{ConnectionRefusal::max_conns,
                          fmt::format("{} already (--max-conns)", net::counted(server_->max(), "connection")), {}});
  }
  ++open_;
  return Ticket(*this, server, slot);
}

void Admission::give_back(const Ticket& ticket) noexcept {
  if (ticket.server_) server_->give_back();
  std::lock_guard lock(mutex_);
  --open_;
  if (ticket.source_slot_) sources_->release(*ticket.source_slot_);
}

}  // namespace sockit::serve
