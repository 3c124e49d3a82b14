#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "cascade/protocol.hpp"
#include "cascade/tracker_registry.hpp"
#include "net/result.hpp"
#include "serve/session.hpp"
#include "serve/source_rate.hpp"

namespace sockit::cascade {

/// Which listening address a subscribe may register (docs/hardening.md, "The tracker's trust").
enum class TrackerTrust {
  source,   ///< only the connection's own source address: nobody registers someone else
  message,  ///< whatever the message says, as the course tracker does
};

/// The tracker's settings: the course tracker's JSON keys plus sockit's own.
struct TrackerConfig {
  std::optional<std::uint16_t> port;  ///< "port": where to listen when --listen gives none
  bool allow_any = false;             ///< track every hash (the course tracker never does)
  std::set<Digest> allowed;           ///< "allowedhashes": hex cascade hashes
  std::set<std::uint32_t> good_ips;   ///< "good-ips"
  bool ban_private = false;           ///< "ban-private": refuse private listening addresses
  std::chrono::seconds stale_after{30 * 60};
  std::size_t max_entries = 20;
  TrackerTrust trust = TrackerTrust::source;
  RegistryCaps caps;
  double max_rate = 20;  ///< requests a second from one source (an IPv6 /64), bursts of a second's; 0: no limit
};

/// The request rate allowed to each source (serve::SourceRateLimiter: a fixed table, so a flood
/// of sources cannot grow it); a source that runs dry is muted for a second. Thread-safe.
class RequestRate {
 public:
  explicit RequestRate(double per_second);
  /// True when `peer` (a session's peer text, "ADDR:PORT") may make one more request now. Text
  /// that is no address (a test's) is not limited.
  bool allow(std::string_view peer);

 private:
  std::mutex mutex_;
  std::optional<serve::SourceRateLimiter> limiter_;  // none: no limit
};

/// Parses the course tracker's JSON configuration; `name` (its path) is for messages. Errors
/// name the file and the bad key.
net::Result<TrackerConfig> parse_tracker_config(std::string_view json, std::string_view name = {});

/// The tracker as a serve::Service: one 54-byte request per connection, one answer, close.
/// Every defect of the request gets status 1 and a message saying what is wrong, and so does a
/// request the registry cannot answer (Redis down). With a registry that waits() on the network,
/// sessions declare themselves cpu_bound() so that event models answer them on their worker
/// threads: the loops never wait for Redis.
class TrackerService : public serve::Service {
 public:
  TrackerService(TrackerConfig config, std::shared_ptr<SwarmRegistry> registry);

  std::string_view name() const noexcept override { return "cascade-tracker"; }
  std::unique_ptr<serve::Session> new_session(const serve::SessionContext& context) const override;

  const TrackerConfig& config() const noexcept { return config_; }
  SwarmRegistry& registry() const noexcept { return *registry_; }
  RequestRate& rate() const noexcept { return *rate_; }

 private:
  TrackerConfig config_;
  std::shared_ptr<SwarmRegistry> registry_;
  std::unique_ptr<RequestRate> rate_;
};

}  // namespace sockit::cascade
