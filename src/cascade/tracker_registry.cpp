// The tracker's registry in memory: one process, one mutex.
#include "cascade/tracker_registry.hpp"

#include <algorithm>
#include <iterator>

namespace sockit::cascade {

TrackerRegistry::TrackerRegistry(RegistryCaps caps, std::uint64_t seed) : caps_(caps), random_(seed) {}

void TrackerRegistry::sweep(Swarm& swarm, Clock::time_point now, std::chrono::seconds stale_after) {
  std::erase_if(swarm, [&](const auto& entry) { return now - entry.second.when > stale_after; });
}

std::size_t TrackerRegistry::entries_at(const Swarm& swarm, std::uint32_t ip) {
  // Entries are ordered by (ip, port): one address's are side by side.
  const auto first = swarm.lower_bound(Endpoint{ip, 0});
  const auto last = swarm.upper_bound(Endpoint{ip, 65535});
  return static_cast<std::size_t>(std::distance(first, last));
}

TrackerRegistry::Refusal TrackerRegistry::subscribe(const Digest& hash, Endpoint who, bool good, Clock::time_point now,
                                                    std::chrono::seconds stale_after) {
  std::lock_guard lock(mutex_);
  return subscribe_locked(hash, who, good, now, stale_after);
}

TrackerRegistry::Refusal TrackerRegistry::subscribe_locked(const Digest& hash, Endpoint who, bool good,
                                                           Clock::time_point now, std::chrono::seconds stale_after) {
  auto swarm = peers_.find(hash);
  if (swarm != peers_.end()) {
    if (auto entry = swarm->second.find(who); entry != swarm->second.end()) {
      entry->second = Seen{now, good};
      return Refusal::none;
    }
    sweep(swarm->second, now, stale_after);
  } else if (peers_.size() >= caps_.swarms) {
    // Swarms whose peers all went stale still count until swept: sweep them all, rarely (only
    // when full), for at most swarms x peers entries.
    for (auto held = peers_.begin(); held != peers_.end();) {
      sweep(held->second, now, stale_after);
      held = held->second.empty() ? peers_.erase(held) : std::next(held);
    }
    if (peers_.size() >= caps_.swarms) return Refusal::too_many_swarms;
  }
  if (swarm == peers_.end()) swarm = peers_.try_emplace(hash).first;
  auto& entries = swarm->second;
  if (entries.size() >= caps_.peers) return Refusal::swarm_full;
  if (entries_at(entries, who.ip) >= caps_.peers_per_ip) return Refusal::ip_full;
  entries.emplace(who, Seen{now, good});
  return Refusal::none;
}

std::vector<PeerEntry> TrackerRegistry::list(const Digest& hash, Endpoint requester, Clock::time_point now,
                                             std::chrono::seconds stale_after, std::size_t max) {
  std::lock_guard lock(mutex_);
  return list_locked(hash, requester, now, stale_after, max);
}

std::vector<PeerEntry> TrackerRegistry::list_locked(const Digest& hash, Endpoint requester, Clock::time_point now,
                                                    std::chrono::seconds stale_after, std::size_t max) {
  auto found = peers_.find(hash);
  if (found == peers_.end()) return {};
  std::vector<PeerEntry> good, other;
  auto& entries = found->second;
  for (auto it = entries.begin(); it != entries.end();) {
    if (now - it->second.when > stale_after) {
      it = entries.erase(it);  // the course tracker only hid these; they grew forever
      continue;
    }
    if (it->first != requester) {
      const auto seen = std::chrono::duration_cast<std::chrono::seconds>(it->second.when.time_since_epoch()).count();
      PeerEntry entry{it->first, static_cast<std::uint32_t>(seen), it->second.good};
      (entry.good ? good : other).push_back(entry);
    }
    ++it;
  }
  if (entries.empty()) peers_.erase(found);
  std::shuffle(good.begin(), good.end(), random_);
  std::shuffle(other.begin(), other.end(), random_);
  good.insert(good.end(), other.begin(), other.end());
  if (good.size() > max) good.resize(max);
  return good;
}

net::Result<SwarmRegistry::Answer> TrackerRegistry::answer(const Query& query) {
  std::lock_guard lock(mutex_);
  Answer answer;
  if (query.subscribe)
    answer.refusal = subscribe_locked(query.hash, query.requester, query.good, query.now, query.stale_after);
  if (answer.refusal == Refusal::none)
    answer.peers = list_locked(query.hash, query.requester, query.now, query.stale_after, query.max_entries);
  return answer;
}

std::size_t TrackerRegistry::swarms() const {
  std::lock_guard lock(mutex_);
  return peers_.size();
}

std::size_t TrackerRegistry::size(const Digest& hash) const {
  std::lock_guard lock(mutex_);
  auto found = peers_.find(hash);
  return found == peers_.end() ? 0 : found->second.size();
}

}  // namespace sockit::cascade
