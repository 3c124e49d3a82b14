#include "serve/admin/rate_meter.hpp"

namespace sockit::serve::admin {

double RateMeter::rate(const std::string& key, double value, Clock::time_point now) {
  const auto [it, fresh] = tracks_.try_emplace(key, Track{value, now});
  if (fresh) return 0;
  auto& track = it->second;
  if (now - track.at >= window_) {
    const double seconds = std::chrono::duration<double>(now - track.at).count();
    // A counter that went back (a restarted peer's bytes) starts over rather than going negative.
    track.rate = value >= track.value ? (value - track.value) / seconds : 0;
    track.value = value;
    track.at = now;
  }
  return track.rate;
}

std::vector<std::uint64_t> RateMeter::growth(const std::string& key, std::span<const std::uint64_t> counts,
                                             Clock::time_point now) {
  const auto [it, fresh] = buckets_.try_emplace(key);
  auto& track = it->second;
  if (fresh || track.counts.size() != counts.size()) {
    track = {{counts.begin(), counts.end()}, now, std::vector<std::uint64_t>(counts.size())};
    return track.growth;
  }
  if (now - track.at >= window_) {
    for (std::size_t i = 0; i < counts.size(); ++i) {
      track.growth[i] = counts[i] >= track.counts[i] ? counts[i] - track.counts[i] : 0;
      track.counts[i] = counts[i];
    }
    track.at = now;
  }
  return track.growth;
}

}  // namespace sockit::serve::admin
