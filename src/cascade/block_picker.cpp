#include "cascade/block_picker.hpp"

#include <algorithm>
#include <random>

namespace sockit::cascade {

BlockPicker::BlockPicker(const std::vector<bool>& held, std::uint64_t seed, Options options)
    : options_(options), held_(held), copies_(held.size(), 0), rank_(held.size(), kNoRank) {
  options_.end_game_copies = std::max<std::uint8_t>(options_.end_game_copies, 1);
  for (std::uint64_t i = 0; i < held_.size(); ++i)
    if (!held_[i]) order_.push_back(i);
  missing_ = order_.size();
  std::mt19937_64 random(seed);
  std::shuffle(order_.begin(), order_.end(), random);
  for (std::size_t position = 0; position < order_.size(); ++position) rank_[order_[position]] = position;
}

bool BlockPicker::lacked(Peer& peer, std::uint64_t index, TimePoint now) {
  auto found = peer.lacks.find(index);
  if (found == peer.lacks.end()) return false;
  if (found->second > now) return true;
  peer.lacks.erase(found);
  return false;
}

std::uint64_t BlockPicker::take(Peer& peer, std::uint64_t index) {
  if (copies_[index]++ == 0) flying_.insert(rank_[index]);
  peer.asked.insert(index);
  return index;
}

void BlockPicker::give_back(Peer& peer, std::uint64_t index) {
  if (peer.asked.erase(index) == 0) return;  // not in flight there: nothing to give back
  if (--copies_[index] > 0) return;
  flying_.erase(rank_[index]);
  if (!held_[index]) returned_.insert(rank_[index]);
}

std::optional<std::uint64_t> BlockPicker::pick(const Endpoint& endpoint, TimePoint now) {
  auto& peer = peers_[endpoint];
  if (peer.banned || missing_ == 0) return std::nullopt;
  // Blocks that came back (lost with a peer, or lacked) first, in the shuffled order.
  for (auto rank = returned_.begin(); rank != returned_.end(); ++rank) {
    const auto index = order_[*rank];
    if (lacked(peer, index, now)) continue;
    returned_.erase(rank);
    return take(peer, index);
  }
  // Then blocks never asked for (no peer can lack those: lacks come from answers).
  while (cursor_ < order_.size() && held_[order_[cursor_]]) ++cursor_;
  if (cursor_ < order_.size()) return take(peer, order_[cursor_++]);
  if (!end_game()) return std::nullopt;
  // End-game: every missing block is in flight; ask this peer too for one it does not have
  // in flight yet.
  for (auto rank : flying_) {
    const auto index = order_[rank];
    if (copies_[index] >= options_.end_game_copies || peer.asked.contains(index) || lacked(peer, index, now)) continue;
    return take(peer, index);
  }
  return std::nullopt;
}

bool BlockPicker::delivered(const Endpoint& endpoint, std::uint64_t index) {
  auto& peer = peers_[endpoint];
  if (peer.asked.erase(index) > 0) --copies_[index];
  if (held_[index]) return false;
  held_[index] = true;
  --missing_;
  const auto rank = rank_[index];
  flying_.erase(rank);
  returned_.erase(rank);
  return true;
}

void BlockPicker::lacks(const Endpoint& endpoint, std::uint64_t index, TimePoint now) {
  auto& peer = peers_[endpoint];
  give_back(peer, index);
  if (peer.lacks.size() >= kPruneLacks) std::erase_if(peer.lacks, [now](const auto& entry) { return entry.second <= now; });
  peer.lacks[index] = now + options_.lack_retry;
}

void BlockPicker::lost(const Endpoint& endpoint) {
  auto found = peers_.find(endpoint);
  if (found == peers_.end()) return;
  auto& peer = found->second;
  const std::vector<std::uint64_t> asked(peer.asked.begin(), peer.asked.end());
  for (auto index : asked) give_back(peer, index);
}

void BlockPicker::ban(const Endpoint& endpoint) {
  lost(endpoint);
  auto& peer = peers_[endpoint];
  peer.banned = true;
  peer.lacks.clear();
}

bool BlockPicker::banned(const Endpoint& endpoint) const {
  auto found = peers_.find(endpoint);
  return found != peers_.end() && found->second.banned;
}

std::size_t BlockPicker::in_flight_at(const Endpoint& endpoint) const {
  auto found = peers_.find(endpoint);
  return found == peers_.end() ? 0 : found->second.asked.size();
}

}  // namespace sockit::cascade
