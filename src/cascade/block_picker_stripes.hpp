#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "cascade/protocol.hpp"

namespace sockit::cascade {

/// A file's blocks cut into one contiguous stripe per member of a swarm, as one peer sees the
/// swarm: itself and the other peers it counts as members, sorted by endpoint; member r of m
/// gets blocks [r*B/m, (r+1)*B/m). Peers that see the same members compute the same stripes
/// without a word exchanged, which is what lets each of them fetch its own stripe from a seed
/// and the others' stripes from their owners. Pure bookkeeping, no I/O.
class BlockStripes {
 public:
  struct Range {
    std::uint64_t begin = 0;
    std::uint64_t end = 0;  ///< one past the last block
    bool contains(std::uint64_t index) const noexcept { return begin <= index && index < end; }
    bool empty() const noexcept { return begin == end; }
  };

  BlockStripes(std::uint64_t blocks, Endpoint self) : blocks_(blocks), self_(self) {}

  /// This peer's own endpoint changed (it learnt its address from the tracker).
  void set_self(Endpoint self) { self_ = self; }
  const Endpoint& self() const noexcept { return self_; }
  /// `peer` is a member from now on; self always is. False when it was one already.
  bool add(const Endpoint& peer);
  /// `peer` is no member any more. False when it was none.
  bool remove(const Endpoint& peer);
  bool member(const Endpoint& peer) const;
  /// Members, self included.
  std::size_t size() const noexcept { return others_.size() + 1; }

  /// The stripe of `peer`; empty when it is no member.
  Range of(const Endpoint& peer) const;
  /// This peer's own stripe.
  Range own() const { return of(self_); }
  /// This peer's own stripe if `peer` were no member.
  Range own_without(const Endpoint& peer) const;

 private:
  Range nth(std::size_t rank, std::size_t members) const;
  std::size_t rank_of(const Endpoint& peer, const Endpoint* left_out) const;

  std::uint64_t blocks_;
  Endpoint self_;
  std::vector<Endpoint> others_;  // sorted
};

}  // namespace sockit::cascade
