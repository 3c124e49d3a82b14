#include "serve/metrics.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <new>

#include "net/error.hpp"

namespace sockit::serve {

std::uint64_t ServiceTotals::timed() const noexcept {
  std::uint64_t n = 0;
  for (const auto count : latency) n += count;
  return n;
}

ServiceCounters::Stripe& ServiceCounters::mine() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t index = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
  return stripes_[index];
}

void ServiceCounters::latency(std::chrono::nanoseconds took, std::uint64_t requests) noexcept {
  const auto ns = static_cast<std::uint64_t>(std::max<std::chrono::nanoseconds::rep>(took.count(), 0));
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kLatencyBounds.begin(), kLatencyBounds.end(), ns) - kLatencyBounds.begin());
  auto& stripe = mine();
  stripe.latency[bucket].fetch_add(requests, std::memory_order_relaxed);
  stripe.latency_ns.fetch_add(ns * requests, std::memory_order_relaxed);
}

ServiceTotals ServiceCounters::totals() const noexcept {
  ServiceTotals t;
  auto read = [](const Counter& c) { return c.load(std::memory_order_relaxed); };
  for (const auto& s : stripes_) {
    t.connections += read(s.connections);
    t.closed += read(s.closed);
    t.requests += read(s.requests);
    t.received += read(s.received);
    t.sent += read(s.sent);
    for (std::size_t i = 0; i < t.refused.size(); ++i) t.refused[i] += read(s.refused[i]);
    for (std::size_t i = 0; i < t.latency.size(); ++i) t.latency[i] += read(s.latency[i]);
    t.latency_ns += read(s.latency_ns);
  }
  return t;
}

namespace {

constexpr std::size_t kNameBytes = 48;
constexpr std::string_view kOther = "other";

}  // namespace

// Everything that children must see lives here, in the shared mapping.
struct Metrics::Shared {
  std::atomic<std::size_t> claimed{0};  // names_[0, claimed) are set: written before it grows
  std::array<std::array<char, kNameBytes>, kMaxServices> names{};
  std::array<std::uint8_t, kMaxServices> name_lengths{};
  std::array<ServiceCounters, kMaxServices> services{};
  TopSources sources;

  std::string_view name(std::size_t i) const noexcept { return {names[i].data(), name_lengths[i]}; }
};

Metrics::Metrics() {
  void* memory = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) throw net::errno_error("mmap(MAP_SHARED | MAP_ANONYMOUS) for the metrics");
  shared_ = new (memory) Shared;
}

Metrics::~Metrics() {
  shared_->~Shared();
  ::munmap(shared_, sizeof(Shared));
}

ServiceCounters& Metrics::service(std::string_view name) {
  name = name.substr(0, kNameBytes);
  std::lock_guard lock(claiming_);
  const auto claimed = shared_->claimed.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < claimed; ++i)
    if (shared_->name(i) == name) return shared_->services[i];
  // The last place is kept for "other": every service past the others shares it.
  const bool full = claimed >= kMaxServices - 1;
  if (full) name = kOther;
  if (full && claimed == kMaxServices) return shared_->services[kMaxServices - 1];
  std::copy(name.begin(), name.end(), shared_->names[claimed].begin());
  shared_->name_lengths[claimed] = static_cast<std::uint8_t>(name.size());
  shared_->claimed.store(claimed + 1, std::memory_order_release);
  return shared_->services[claimed];
}

std::vector<Metrics::Named> Metrics::services() const {
  const auto claimed = shared_->claimed.load(std::memory_order_acquire);
  std::vector<Named> all;
  for (std::size_t i = 0; i < claimed; ++i) all.push_back({shared_->name(i), &shared_->services[i]});
  return all;
}

TopSources& Metrics::sources() noexcept { return shared_->sources; }
const TopSources& Metrics::sources() const noexcept { return shared_->sources; }

}  // namespace sockit::serve
