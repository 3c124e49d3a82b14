#include "serve/source_count.hpp"

#include <algorithm>

namespace sockit::serve {

namespace {
constexpr std::size_t kWays = SourceRateLimiter::kWays;
}  // namespace

SourceCounts::SourceCounts(std::size_t slots, std::uint64_t seed)
    : seed_(seed ? seed : random_source_seed()) {
  const std::size_t sets = std::max<std::size_t>(1, (slots + kWays - 1) / kWays);
  slots_.resize(sets * kWays);
  slots_.shrink_to_fit();
}

SourceCounts::Slot* SourceCounts::set_of(const SourceKey& source) {
  return &slots_[source_set(source, seed_, slots_.size() / kWays) * kWays];
}

std::optional<std::size_t> SourceCounts::acquire(const SourceKey& source, std::size_t limit) {
  Slot* set = set_of(source);
  Slot* slot = nullptr;
  for (std::size_t i = 0; i < kWays; ++i) {
    if (set[i].count > 0 && set[i].key == source) {
      slot = &set[i];
      break;
    }
    if (!slot && set[i].count == 0) slot = &set[i];  // free: taken unless the source has a slot further on
  }
  if (!slot) slot = &overflow_;
  if (slot->count >= limit) return std::nullopt;
  if (slot->count == 0) slot->key = source;
  ++slot->count;
  return slot == &overflow_ ? kOverflow : static_cast<std::size_t>(slot - slots_.data());
}

void SourceCounts::release(std::size_t slot) noexcept {
  Slot& s = slot == kOverflow ? overflow_ : slots_[slot];
  if (s.count > 0) --s.count;
}

std::size_t SourceCounts::open(const SourceKey& source) const {
  const Slot* set = &slots_[source_set(source, seed_, slots_.size() / kWays) * kWays];
  for (std::size_t i = 0; i < kWays; ++i)
    if (set[i].count > 0 && set[i].key == source) return set[i].count;
  return 0;
}

}  // namespace sockit::serve
