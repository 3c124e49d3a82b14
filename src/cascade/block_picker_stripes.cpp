#include "cascade/block_picker_stripes.hpp"

#include <algorithm>

namespace sockit::cascade {

bool BlockStripes::add(const Endpoint& peer) {
  if (peer == self_) return false;
  auto at = std::lower_bound(others_.begin(), others_.end(), peer);
  if (at != others_.end() && *at == peer) return false;
  others_.insert(at, peer);
  return true;
}

bool BlockStripes::remove(const Endpoint& peer) {
  auto at = std::lower_bound(others_.begin(), others_.end(), peer);
  if (at == others_.end() || *at != peer) return false;
  others_.erase(at);
  return true;
}

bool BlockStripes::member(const Endpoint& peer) const {
  return peer == self_ || std::binary_search(others_.begin(), others_.end(), peer);
}

BlockStripes::Range BlockStripes::nth(std::size_t rank, std::size_t members) const {
  // floor(blocks * r / members), without the product that could overflow.
  const std::uint64_t share = blocks_ / members;
  const std::uint64_t rest = blocks_ % members;
  const auto cut = [&](std::uint64_t r) { return share * r + rest * r / members; };
  return {cut(rank), cut(rank + 1)};
}

// The rank of `peer` (a member) among the members, self included, leaving out `left_out`.
std::size_t BlockStripes::rank_of(const Endpoint& peer, const Endpoint* left_out) const {
  std::size_t rank = static_cast<std::size_t>(std::lower_bound(others_.begin(), others_.end(), peer) - others_.begin());
  if (peer != self_ && self_ < peer) ++rank;
  if (left_out && *left_out < peer && member(*left_out) && *left_out != self_) --rank;
  return rank;
}

BlockStripes::Range BlockStripes::of(const Endpoint& peer) const {
  if (!member(peer)) return {};
  return nth(rank_of(peer, nullptr), size());
}

BlockStripes::Range BlockStripes::own_without(const Endpoint& peer) const {
  if (peer == self_ || !member(peer)) return own();
  return nth(rank_of(self_, &peer), size() - 1);
}

}  // namespace sockit::cascade
