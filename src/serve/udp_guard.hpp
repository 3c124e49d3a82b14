#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>

#include "net/address.hpp"
#include "serve/log.hpp"
#include "serve/refusal.hpp"
#include "serve/refusal_tally.hpp"
#include "serve/source_check.hpp"
#include "serve/source_rate.hpp"

namespace sockit::serve {

/// Replies a second to one source by default (`sockit serve --udp-rate`).
inline constexpr double kDefaultUdpRate = 1000;

/// Keeps a UDP server from being a reflector or one end of a loop: sources that are never
/// answered (source_check.hpp), a reply rate per source (source_rate.hpp), a count per reason
/// and a log line per spell (refusal_tally.hpp). One per Server, shared by all its UDP threads;
/// thread-safe.
class UdpGuard {
 public:
  using Clock = std::chrono::steady_clock;
  using Time = Clock::time_point;

  struct Config {
    SourcePolicy policy{};
    double rate = kDefaultUdpRate;  ///< replies a second to one source; 0: no limit
    std::chrono::nanoseconds mute = std::chrono::seconds(1);
    std::size_t slots = 4096;  ///< sources tracked at once (SourceRateLimiter)
    std::chrono::nanoseconds quiet = std::chrono::seconds(10);  ///< a spell ends after this long without a refusal
  };

  /// The burst a rate allows: a quarter of a second's worth, at least 16.
  static double burst_for(double rate) noexcept;

  /// `log` gets a line when a spell of refusals starts and when it ends; may be nullptr.
  UdpGuard(const Config& config, Log* log);

  /// Where a datagram arrived: the service and the listener's address.
  struct Listener {
    std::string_view service;
    const net::Address& local;
  };

  /// Before answering: false (counted, perhaps logged) when `source` must never be answered.
  bool admit(const net::Address& source, const Listener& where, Time now);
  /// The same against `policy` (what policy() gave: a loop takes it once per batch).
  bool admit(const net::Address& source, const Listener& where, Time now, const SourcePolicy& policy);
  /// The policy now; a reload may set another (new UDP ports are own ports at once).
  std::shared_ptr<const SourcePolicy> policy() const;
  void set_own_ports(std::vector<std::uint16_t> ports);
  /// Before sending a reply to `source`: false (counted, perhaps logged) when it is over its rate.
  bool may_reply(const net::Address& source, const Listener& where, Time now);
  /// The same for a batch of replies under one lock: `allowed[i]` says whether `sources[i]` may
  /// get its reply (the spans have the same size).
  void may_reply(std::span<const net::Address> sources, const Listener& where, Time now, std::span<bool> allowed);
  /// Logs the spells that have ended by `now`; any thread, now and then (once a second).
  void tick(Time now);
  /// Logs the spells still open: once, when the UDP threads are done.
  void finish();

  /// Datagrams refused for `reason` so far.
  std::uint64_t refused(Refusal reason) const;

 private:
  void refuse(Refusal reason, const net::Address& source, const Listener& where, Time now);
  void log_spell_start(Refusal reason, const net::Address& source, const Listener& where);

  std::shared_ptr<const SourcePolicy> policy_;  // under mutex_; never changed in place
  const double rate_;
  const std::chrono::nanoseconds mute_;
  Log* log_;
  mutable std::mutex mutex_;
  SourceRateLimiter limiter_;
  RefusalTally tally_;
};

}  // namespace sockit::serve
