#include "cascade/block_picker.hpp"

#include <algorithm>

namespace sockit::cascade {

BlockPicker::BlockPicker(const std::vector<bool>& held, Endpoint self, Options options)
    : options_(options), held_(held), copies_(held.size(), 0), stripes_(held.size(), self) {
  options_.end_game_copies = std::max<std::uint8_t>(options_.end_game_copies, 1);
  for (std::uint64_t i = 0; i < held_.size(); ++i)
    if (!held_[i]) free_.insert(free_.end(), i);
  missing_ = free_.size();
}

bool BlockPicker::lacked_within(const Peer& peer, std::uint64_t index, TimePoint now, std::chrono::milliseconds span) {
  auto found = peer.lacks.find(index);
  return found != peer.lacks.end() && now - found->second < span;
}

std::size_t BlockPicker::in_range(const std::set<std::uint64_t>& blocks, BlockStripes::Range range) {
  return static_cast<std::size_t>(std::distance(blocks.lower_bound(range.begin), blocks.lower_bound(range.end)));
}

bool BlockPicker::at_source(std::uint64_t index) const {
  return std::any_of(peers_.begin(), peers_.end(), [index](const auto& entry) {
    return entry.second.role == Role::source && entry.second.asked.contains(index);
  });
}

bool BlockPicker::cleared(std::uint64_t index, TimePoint now) const {
  return std::all_of(peers_.begin(), peers_.end(), [&](const auto& entry) {
    const auto& peer = entry.second;
    return !peer.open || peer.banned || peer.role != Role::leecher || now - peer.heard > options_.silent_after ||
           lacked_within(peer, index, now, options_.clear_for);
  });
}

std::uint64_t BlockPicker::take(Peer& peer, std::uint64_t index) {
  if (copies_[index]++ == 0) {
    free_.erase(index);
    flying_.insert(index);
  }
  peer.asked.insert(index);
  return index;
}

void BlockPicker::give_back(Peer& peer, std::uint64_t index) {
  if (peer.asked.erase(index) == 0) return;  // not in flight there: nothing to give back
  if (--copies_[index] > 0) return;
  flying_.erase(index);
  if (!held_[index]) free_.insert(index);
}

void BlockPicker::update_member(const Endpoint& endpoint, const Peer& peer, TimePoint now) {
  const bool changed = peer.open && !peer.banned && peer.role != Role::source ? stripes_.add(endpoint)
                                                                               : stripes_.remove(endpoint);
  if (changed) unsettled_ = now;
}

void BlockPicker::set_role(const Endpoint& endpoint, Peer& peer, Role role, TimePoint now) {
  if (peer.role == role) return;
  peer.role = role;
  update_member(endpoint, peer, now);
}

void BlockPicker::opened(const Endpoint& endpoint, TimePoint now) {
  auto& peer = peers_[endpoint];
  peer.open = true;
  update_member(endpoint, peer, now);
}

std::optional<std::uint64_t> BlockPicker::pick(const Endpoint& endpoint, TimePoint now) {
  auto& peer = peers_[endpoint];
  if (peer.banned || missing_ == 0) return std::nullopt;
  if (!started_) started_ = now;
  std::optional<std::uint64_t> index;
  switch (peer.role) {
    case Role::unknown:
      if (!peer.asked.empty()) return std::nullopt;  // one probe, until it is answered
      index = first_probe(endpoint);
      break;
    case Role::source:
      index = from_source(now);
      break;
    case Role::leecher: {
      // A clearing probe and a block of its stripe first, then more of each: a clearing answer
      // lets a source go on, and waits behind whatever this peer is sending us.
      const auto own = stripes_.own();
      const auto stripe = stripes_.of(endpoint);
      const auto clearing = in_range(peer.asked, own);
      const auto following = in_range(peer.asked, stripe);
      if (clearing == 0) index = clearing_probe(peer, now);
      if (!index && following == 0) index = from_leecher(endpoint, peer, now);
      if (!index && clearing < kClearInFlight) index = clearing_probe(peer, now);
      if (!index && following < kFollowDepth) index = from_leecher(endpoint, peer, now);
      if (!index) index = probe(endpoint, peer, now);
      break;
    }
  }
  if (index) return take(peer, *index);
  // A source's second copies would come out of what the seed's uplink owes the others' stripes:
  // only when nothing arrives any more.
  if (end_game() && (peer.role != Role::source || starving(now))) return end_game_copy(peer, now);
  return std::nullopt;
}

// A peer not heard from yet may be a seed: ask for the first block of the stripe we would have
// if it were one (where the others will ask us first).
std::optional<std::uint64_t> BlockPicker::first_probe(const Endpoint& endpoint) const {
  const auto own = stripes_.own_without(endpoint);
  if (auto it = free_.lower_bound(own.begin); it != free_.end() && *it < own.end) return *it;
  if (!free_.empty()) return *free_.begin();
  return std::nullopt;
}

// A source is asked for the blocks of our own stripe in order (our followers ask us in that
// order). While the stripes settle, each only once every leecher said it lacks it: until then the
// source waits rather than skip ahead.
std::optional<std::uint64_t> BlockPicker::from_source(TimePoint now) const {
  if (const auto next = unsourced(stripes_.own(), 1);
      !next.empty() && (!settling(now) || (copies_[next[0]] == 0 && cleared(next[0], now))))
    return next[0];
  if (starving(now) && !free_.empty()) return *free_.begin();
  return std::nullopt;
}

// Up to `limit` blocks of `range`, in order, that are missing and not asked of a source.
std::vector<std::uint64_t> BlockPicker::unsourced(BlockStripes::Range range, std::size_t limit) const {
  std::vector<std::uint64_t> found;
  auto spare = free_.lower_bound(range.begin);
  auto flying = flying_.lower_bound(range.begin);
  for (std::size_t looked = 0; found.size() < limit && looked < kScan; ++looked) {
    const bool spare_in = spare != free_.end() && *spare < range.end;
    const bool flying_in = flying != flying_.end() && *flying < range.end;
    if (!spare_in && !flying_in) break;
    const auto index = spare_in && (!flying_in || *spare < *flying) ? *spare++ : *flying++;
    if (!at_source(index)) found.push_back(index);
  }
  return found;
}

bool BlockPicker::settling(TimePoint now) const { return unsettled_ && now - *unsettled_ < options_.settle; }

// While the stripes settle, the next blocks our sources are to be asked for are asked of every
// leecher first, all at once (a probe may be in flight at many): one that has it (it fetched it
// before the stripes settled) saves the seed a block, and the sources wait for the answers. With
// no source (the seed is gone) they are asked all the time, as often as any lacked block.
std::optional<std::uint64_t> BlockPicker::clearing_probe(Peer& peer, TimePoint now) {
  const bool sourced = std::any_of(peers_.begin(), peers_.end(), [](const auto& entry) {
    return entry.second.open && !entry.second.banned && entry.second.role == Role::source;
  });
  if (sourced && !settling(now)) return std::nullopt;
  const auto again = sourced ? options_.clear_for : options_.lack_retry;
  for (auto index : unsourced(stripes_.own(), kClearAhead))
    if (!peer.asked.contains(index) && !lacked_within(peer, index, now, again)) return index;
  return std::nullopt;
}

// A leecher fetches its stripe front to back: the first block of it we still need is where to
// ask. Blocks below where it stood when last heard of are asked at once; past that, one at a time,
// and not again before lack_retry once it lacked one.
std::optional<std::uint64_t> BlockPicker::from_leecher(const Endpoint& endpoint, Peer& peer, TimePoint now) {
  const auto stripe = stripes_.of(endpoint);
  auto it = free_.lower_bound(stripe.begin);
  if (it == free_.end() || *it >= stripe.end || lacked_within(peer, *it, now, options_.lack_retry)) return std::nullopt;
  const auto reached = std::clamp(peer.reached, stripe.begin, stripe.end);
  if (*it >= reached && in_range(peer.asked, {reached, stripe.end}) > 0) return std::nullopt;
  return *it;
}

std::optional<std::uint64_t> BlockPicker::probe(const Endpoint& endpoint, Peer& peer, TimePoint now) {
  if (now < peer.next_probe) return std::nullopt;
  peer.next_probe = now + options_.probe_interval;
  const auto own = stripes_.own();
  std::size_t looked = 0;
  // The others' stripes, from ours on round the file; the peer's own is followed instead, ours
  // is cleared.
  const auto theirs = stripes_.of(endpoint);
  for (const auto& [begin, end] : {std::pair{own.end, block_count()}, std::pair{std::uint64_t{0}, own.begin}})
    for (auto it = free_.lower_bound(begin); it != free_.end() && *it < end && looked < kProbeScan; ++it, ++looked)
      if (!theirs.contains(*it) && !lacked_within(peer, *it, now, options_.lack_retry)) return *it;
  return std::nullopt;
}

std::optional<std::uint64_t> BlockPicker::end_game_copy(Peer& peer, TimePoint now) {
  // Every missing block is in flight: ask this peer too for one it does not have in flight yet.
  for (auto index : flying_) {
    if (copies_[index] >= options_.end_game_copies || peer.asked.contains(index) || lacked_within(peer, index, now, options_.lack_retry)) continue;
    return take(peer, index);
  }
  return std::nullopt;
}

bool BlockPicker::starving(TimePoint now) const {
  if (!started_) return false;
  auto limit = std::chrono::duration_cast<Clock::duration>(options_.starve_after);
  if (arrivals_ >= 2) limit = std::max(limit, 8 * (last_arrival_ - *first_arrival_) / static_cast<long>(arrivals_ - 1));
  return now - (arrivals_ > 0 ? last_arrival_ : *started_) > limit;
}

bool BlockPicker::delivered(const Endpoint& endpoint, std::uint64_t index, TimePoint now) {
  auto& peer = peers_[endpoint];
  if (peer.role == Role::unknown) set_role(endpoint, peer, Role::source, now);
  peer.heard = now;
  if (stripes_.of(endpoint).contains(index)) peer.reached = std::max(peer.reached, index + 1);
  if (peer.asked.erase(index) > 0) --copies_[index];
  if (held_[index]) return false;
  held_[index] = true;
  --missing_;
  flying_.erase(index);
  free_.erase(index);
  if (!first_arrival_) first_arrival_ = now;
  last_arrival_ = now;
  ++arrivals_;
  return true;
}

void BlockPicker::lacks(const Endpoint& endpoint, std::uint64_t index, TimePoint now) {
  auto& peer = peers_[endpoint];
  set_role(endpoint, peer, Role::leecher, now);
  peer.heard = now;
  if (stripes_.of(endpoint).contains(index)) peer.reached = index;
  give_back(peer, index);
  if (peer.lacks.size() >= kPruneLacks) {
    const auto kept = std::max(options_.lack_retry, options_.clear_for);
    std::erase_if(peer.lacks, [&](const auto& entry) { return now - entry.second >= kept; });
  }
  peer.lacks[index] = now;
}

void BlockPicker::lost(const Endpoint& endpoint, TimePoint now) {
  auto found = peers_.find(endpoint);
  if (found == peers_.end()) return;
  auto& peer = found->second;
  const std::vector<std::uint64_t> asked(peer.asked.begin(), peer.asked.end());
  for (auto index : asked) give_back(peer, index);
  peer.open = false;
  update_member(endpoint, peer, now);
}

void BlockPicker::ban(const Endpoint& endpoint, TimePoint now) {
  lost(endpoint, now);
  auto& peer = peers_[endpoint];
  peer.banned = true;
  peer.lacks.clear();
  update_member(endpoint, peer, now);
}

bool BlockPicker::banned(const Endpoint& endpoint) const {
  auto found = peers_.find(endpoint);
  return found != peers_.end() && found->second.banned;
}

BlockPicker::Role BlockPicker::role(const Endpoint& endpoint) const {
  auto found = peers_.find(endpoint);
  return found == peers_.end() ? Role::unknown : found->second.role;
}

std::size_t BlockPicker::in_flight_at(const Endpoint& endpoint) const {
  auto found = peers_.find(endpoint);
  return found == peers_.end() ? 0 : found->second.asked.size();
}

}  // namespace sockit::cascade
