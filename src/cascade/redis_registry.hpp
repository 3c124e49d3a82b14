#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "cascade/redis_pool.hpp"
#include "cascade/tracker_registry.hpp"

namespace sockit::cascade {

/// The tracker's registry in Redis, shared by every tracker that names the same server and
/// prefix (docs/trackers.md): a peer that subscribes through one is listed by all. Each request
/// is one Lua script, so a subscribe (with its caps, counted over all trackers) and the list that
/// answers it are one atomic step. Keys, all under the hash tag {PREFIX} so that every script
/// touches one Redis Cluster slot:
///   {PREFIX}:swarms        sorted set: swarm (hex cascade hash) -> its latest subscribe (ms)
///   {PREFIX}:peers:HASH    sorted set: "ip:port" -> last seen (Unix ms)
///   {PREFIX}:good:HASH     set: the entries flagged good
///   {PREFIX}:ips:HASH      hash: listening IPv4 -> its entries in the swarm (--max-peers-per-ip)
/// Each expires stale_after after the last subscribe that touched it, so an abandoned swarm
/// leaves nothing behind. Thread-safe.
class RedisRegistry : public SwarmRegistry {
 public:
  RedisRegistry(RedisSettings settings, std::string prefix, RegistryCaps caps = {}, RedisPool::Notice notice = {},
                std::uint64_t seed = std::random_device{}());

  /// One round trip to Redis, within settings.timeout; an error when Redis cannot be reached in
  /// time or answers with an error (see RedisPool for what a down Redis costs).
  net::Result<Answer> answer(const Query& query) override;
  bool waits() const noexcept override { return true; }
  const RegistryCaps& caps() const noexcept override { return caps_; }
  net::Result<std::size_t> entries(const Digest& hash) override;
  net::Result<std::size_t> swarm_count() override;

  const std::string& server() const noexcept { return pool_.server(); }

 private:
  net::Result<std::size_t> cardinality(const std::string& key);
  std::string key(std::string_view kind, const Digest& hash) const;

  const RegistryCaps caps_;
  const std::string tag_;  // "{PREFIX}"
  RedisPool pool_;
  std::mutex random_mutex_;
  std::mt19937_64 random_;
};

/// True when `prefix` can name a tracker's keys: printable, no braces (it goes inside a hash tag),
/// at most 64 bytes.
bool valid_redis_prefix(std::string_view prefix) noexcept;

}  // namespace sockit::cascade
