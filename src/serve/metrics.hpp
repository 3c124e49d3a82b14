#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include "serve/connection_log.hpp"
#include "serve/metrics_sources.hpp"

namespace sockit::serve {

/// Upper bounds of the request latency histogram's buckets, in nanoseconds (Prometheus's `le`
/// in seconds), from 10 µs (an echo answered in the turn that read it) to 10 s; the last bucket,
/// +Inf, takes the rest.
inline constexpr std::array<std::uint64_t, 19> kLatencyBounds = {
    10'000,      25'000,      50'000,      100'000,       250'000,       500'000,       1'000'000,
    2'500'000,   5'000'000,   10'000'000,  25'000'000,    50'000'000,    100'000'000,   250'000'000,
    500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
inline constexpr std::size_t kLatencyBuckets = kLatencyBounds.size() + 1;

/// One service's counters summed at one moment (ServiceCounters::totals).
struct ServiceTotals {
  std::uint64_t connections = 0;  ///< accepted and served, since the start
  std::uint64_t closed = 0;
  std::uint64_t requests = 0;
  std::uint64_t received = 0;  ///< bytes read from clients
  std::uint64_t sent = 0;      ///< bytes handed to the kernel for clients
  std::array<std::uint64_t, kConnectionRefusalKinds> refused{};
  std::array<std::uint64_t, kLatencyBuckets> latency{};  ///< requests per bucket (not cumulative)
  std::uint64_t latency_ns = 0;                          ///< their latencies added up

  /// Connections open now. The counters are read one by one while others move them, so a close
  /// may be seen before its open: never below zero.
  std::uint64_t open() const noexcept { return connections > closed ? connections - closed : 0; }
  /// Requests in the latency histogram (those whose answer left; see RequestMeter).
  std::uint64_t timed() const noexcept;
};

/// The counters of one service, moved by every connection of every model: lock-free (relaxed
/// atomic adds), and striped: each thread adds to one of kStripes copies, each on cache lines of
/// its own, so that the event loops of a busy server (one per core) never fight over a line;
/// totals() adds the stripes up. Lives in memory shared with forked children (Metrics), so the
/// atomics must be lock-free (address-free) ones. Any thread, any process.
class ServiceCounters {
 public:
  static constexpr std::size_t kStripes = 8;

  void connected() noexcept { add(&Stripe::connections, 1); }
  void closed() noexcept { add(&Stripe::closed, 1); }
  void refused(ConnectionRefusal reason) noexcept {
    mine().refused[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
  void requests(std::uint64_t n) noexcept { add(&Stripe::requests, n); }
  void received(std::uint64_t bytes) noexcept { add(&Stripe::received, bytes); }
  void sent(std::uint64_t bytes) noexcept { add(&Stripe::sent, bytes); }
  /// `requests` requests each took `took`.
  void latency(std::chrono::nanoseconds took, std::uint64_t requests) noexcept;

  ServiceTotals totals() const noexcept;

 private:
  using Counter = std::atomic<std::uint64_t>;
  static_assert(Counter::is_always_lock_free, "counters in shared memory must be address-free");

  struct alignas(64) Stripe {
    Counter connections{0};
    Counter closed{0};
    Counter requests{0};
    Counter received{0};
    Counter sent{0};
    std::array<Counter, kConnectionRefusalKinds> refused{};
    std::array<Counter, kLatencyBuckets> latency{};
    Counter latency_ns{0};
  };

  /// The calling thread's stripe: threads take stripes in turn as they first count.
  Stripe& mine() noexcept;
  void add(Counter Stripe::*counter, std::uint64_t n) noexcept {
    (mine().*counter).fetch_add(n, std::memory_order_relaxed);
  }

  std::array<Stripe, kStripes> stripes_{};
};

/// The counters of one server (or tracker, or peer): ServiceCounters per service and the busiest
/// sources, in one anonymous shared mapping (mmap MAP_SHARED | MAP_ANONYMOUS) made when the
/// Metrics is built. A process forked after that (the fork model's children) counts into the
/// same memory: what its connections do shows in the parent's /metrics, with no report back.
/// Build it before the model forks; fixed size (pages are only paid for once touched).
/// Not copyable or movable: models hold pointers into it.
class Metrics {
 public:
  /// Services counted separately; more share one set of counters named "other".
  static constexpr std::size_t kMaxServices = 32;

  /// Throws net::Error when the mapping cannot be made.
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  /// The counters of the service called `name`, made on first use; they stay for the
  /// Metrics' life (Prometheus counters never go back). Thread-safe. Call it before forking:
  /// children use what their parent found, and never claim a service themselves.
  ServiceCounters& service(std::string_view name);
  /// Every service counted so far, in the order they were first named. Thread-safe.
  struct Named {
    std::string_view name;
    const ServiceCounters* counters;
  };
  std::vector<Named> services() const;

  TopSources& sources() noexcept;
  const TopSources& sources() const noexcept;

 private:
  struct Shared;
  Shared* shared_;
  std::mutex claiming_;  // the parent's: children never claim
};

}  // namespace sockit::serve
