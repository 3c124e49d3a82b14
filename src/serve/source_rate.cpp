#include "serve/source_rate.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <random>

namespace sockit::serve {
namespace {

// splitmix64's finaliser: every input bit moves every output bit.
std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::uint64_t random_source_seed() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) ^ device() ^ 1;  // never 0
}

std::size_t source_set(const SourceKey& key, std::uint64_t seed, std::size_t sets) noexcept {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::memcpy(&high, key.bytes.data(), 8);
  std::memcpy(&low, key.bytes.data() + 8, 8);
  return mix(mix(high ^ seed) ^ low) % sets;
}

SourceKey source_key(const net::Address& raw) noexcept {
  SourceKey key;
  const net::Address source = raw.unmapped();
  if (source.family() == AF_INET) {
    // As ::ffff:a.b.c.d, so that no IPv6 /64 can share its key.
    key.bytes[10] = key.bytes[11] = 0xff;
    std::memcpy(&key.bytes[12], &reinterpret_cast<const sockaddr_in*>(source.get())->sin_addr, 4);
  } else if (source.family() == AF_INET6) {
    std::memcpy(key.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(source.get())->sin6_addr, 8);
  }
  return key;
}

SourceRateLimiter::SourceRateLimiter(const Config& config)
    : config_(config), epoch_(Clock::now()) {
  if (config_.seed == 0) config_.seed = random_source_seed();
  const std::size_t sets = std::max<std::size_t>(1, (config_.slots + kWays - 1) / kWays);
  slots_.resize(sets * kWays);
  slots_.shrink_to_fit();
  overflow_.tokens = config_.burst;
  overflow_.used = true;
}

std::int64_t SourceRateLimiter::ns(Time now) const noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(now - epoch_).count();
}

bool SourceRateLimiter::idle(const Slot& slot, std::int64_t now) const noexcept {
  if (!slot.used) return true;
  if (now < slot.muted_until) return false;
  return slot.tokens + config_.rate * 1e-9 * static_cast<double>(now - slot.stamp) >= config_.burst;
}

bool SourceRateLimiter::take(Slot& slot, std::int64_t now) noexcept {
  if (now < slot.muted_until) return false;
  const double earned = config_.rate * 1e-9 * static_cast<double>(std::max<std::int64_t>(0, now - slot.stamp));
  slot.tokens = std::min(config_.burst, slot.tokens + earned);
  slot.stamp = now;
  if (slot.tokens >= 1) {
    slot.tokens -= 1;
    return true;
  }
  slot.muted_until = now + config_.mute.count();
  return false;
}

bool SourceRateLimiter::allow(const SourceKey& source, Time when) {
  const std::int64_t now = ns(when);
  Slot* set = &slots_[source_set(source, config_.seed, slots_.size() / kWays) * kWays];
  Slot* reusable = nullptr;
  for (std::size_t i = 0; i < kWays; ++i) {
    Slot& slot = set[i];
    if (slot.used && slot.key == source) return take(slot, now);
    if (!reusable && idle(slot, now)) reusable = &slot;
  }
  if (!reusable) return take(overflow_, now);
  *reusable = Slot{.key = source, .tokens = config_.burst, .stamp = now, .used = true};
  return take(*reusable, now);
}

std::size_t SourceRateLimiter::tracked(Time when) const {
  const std::int64_t now = ns(when);
  return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [&](const Slot& s) {
    return !idle(s, now);
  }));
}

}  // namespace sockit::serve
