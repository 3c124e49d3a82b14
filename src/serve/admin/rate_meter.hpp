#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace sockit::serve::admin {

/// Turns counters into per-second rates for a status page that asks every second or so: a
/// counter's rate is its growth over the last window of at least `window` (a window ends, and
/// the next begins, at the first look past it), so several viewers, or one asking ten times a
/// second, see the same rate. A counter not looked at for a while gets the average of that
/// while, once. Keys are the caller's (one per counter shown: bounded by what it shows). Not
/// thread-safe.
class RateMeter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RateMeter(Clock::duration window = std::chrono::seconds(1)) : window_(window) {}

  /// The rate of counter `key`, now at `value`; 0 until a window has passed.
  double rate(const std::string& key, double value, Clock::time_point now);
  /// How much each of `counts` (a histogram's buckets, `key`'s) grew over the last window; all
  /// zero until a window has passed.
  std::vector<std::uint64_t> growth(const std::string& key, std::span<const std::uint64_t> counts,
                                    Clock::time_point now);

 private:
  struct Track {
    double value;
    Clock::time_point at;
    double rate = 0;
  };
  struct Buckets {
    std::vector<std::uint64_t> counts;
    Clock::time_point at;
    std::vector<std::uint64_t> growth;
  };

  Clock::duration window_;
  std::map<std::string, Track, std::less<>> tracks_;
  std::map<std::string, Buckets, std::less<>> buckets_;
};

}  // namespace sockit::serve::admin
