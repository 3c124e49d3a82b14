#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cascade/protocol.hpp"
#include "net/result.hpp"
#include "serve/session.hpp"
#include "serve/source_rate.hpp"

namespace sockit::cascade {

/// Which listening address a subscribe may register (docs/hardening.md, "The tracker's trust").
enum class TrackerTrust {
  source,   ///< only the connection's own source address: nobody registers someone else
  message,  ///< whatever the message says, as the course tracker does
};

/// What one registry holds at most: a flood can be refused, never make room by evicting.
struct RegistryCaps {
  std::size_t swarms = 1024;      ///< cascade hashes with peers (--allow-any lets anyone make new ones)
  std::size_t peers = 1000;       ///< entries per swarm
  std::size_t peers_per_ip = 16;  ///< entries per swarm with one listening IPv4 address
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

/// Who is registered for which hash. Thread-safe (one mutex): models call sessions from many
/// threads.
class TrackerRegistry {
 public:
  using Clock = std::chrono::system_clock;

  explicit TrackerRegistry(RegistryCaps caps = {}, std::uint64_t seed = std::random_device{}());

  /// Why subscribe() did not store an entry.
  enum class Refusal { none, too_many_swarms, swarm_full, ip_full };

  /// Registers or refreshes `who` for `hash` with last-seen `now`. A refresh always succeeds; a
  /// new entry only within the caps, counting entries seen within `stale_after` (older ones are
  /// deleted first).
  Refusal subscribe(const Digest& hash, Endpoint who, bool good, Clock::time_point now,
                    std::chrono::seconds stale_after);
  /// Up to `max` entries for `hash` seen within `stale_after`, good ones first, each group in
  /// random order, without `requester`. Deletes the stale entries it meets.
  std::vector<PeerEntry> list(const Digest& hash, Endpoint requester, Clock::time_point now,
                              std::chrono::seconds stale_after, std::size_t max);
  /// Entries held for `hash` (stale ones included until a request sweeps them).
  std::size_t size(const Digest& hash) const;
  /// Swarms held (each has at least one entry, stale or not).
  std::size_t swarms() const;
  const RegistryCaps& caps() const noexcept { return caps_; }

 private:
  struct Seen {
    Clock::time_point when;
    bool good = false;
  };
  using Swarm = std::map<Endpoint, Seen>;
  static void sweep(Swarm& swarm, Clock::time_point now, std::chrono::seconds stale_after);
  static std::size_t entries_at(const Swarm& swarm, std::uint32_t ip);

  const RegistryCaps caps_;
  mutable std::mutex mutex_;
  std::map<Digest, Swarm> peers_;
  std::mt19937_64 random_;
};

/// The tracker as a serve::Service: one 54-byte request per connection, one answer, close.
/// Every defect of the request gets status 1 and a message saying what is wrong.
class TrackerService : public serve::Service {
 public:
  TrackerService(TrackerConfig config, std::shared_ptr<TrackerRegistry> registry);

  std::string_view name() const noexcept override { return "cascade-tracker"; }
  std::unique_ptr<serve::Session> new_session(const serve::SessionContext& context) const override;

  const TrackerConfig& config() const noexcept { return config_; }
  TrackerRegistry& registry() const noexcept { return *registry_; }
  RequestRate& rate() const noexcept { return *rate_; }

 private:
  TrackerConfig config_;
  std::shared_ptr<TrackerRegistry> registry_;
  std::unique_ptr<RequestRate> rate_;
};

}  // namespace sockit::cascade
