#pragma once

#include <pthread.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::serve {

/// The client addresses that opened the most connections (served or refused), in fixed memory
/// whatever the number of sources: the space-saving algorithm (Metwally, Agrawal, El Abbadi,
/// "Efficient computation of frequent and top-k elements in data streams", 2005). It keeps
/// kMonitored counters; a source not among them takes the place of the smallest, inheriting
/// its count as its possible over-count (`error`). Any source that opened more than
/// 1/kMonitored of all connections is sure to be kept, and its count is exact to within `error`.
///
/// Lives in memory shared with forked children (Metrics): guarded by a process-shared, robust
/// mutex, so a child killed while holding it (the fork model's SIGKILL after the grace period)
/// leaves it usable. Any thread, any process.
class TopSources {
 public:
  static constexpr std::size_t kMonitored = 64;
  static constexpr std::size_t kAddressBytes = 64;  ///< longer addresses are cut (never seen for IP)

  struct Source {
    std::string address;         ///< the host part of a peer: "127.0.0.1", "::1"
    std::uint64_t connections;   ///< at most this many, at least connections - error
    std::uint64_t error;
    std::uint64_t refused;       ///< of them, refused, since it was last taken in
  };

  TopSources();
  ~TopSources();
  TopSources(const TopSources&) = delete;
  TopSources& operator=(const TopSources&) = delete;

  /// One connection from `peer` ("127.0.0.1:5000", "[::1]:5000": the port is dropped). `refused`:
  /// the server turned it away.
  void count(std::string_view peer, bool refused) noexcept;
  /// The `n` sources with the most connections, most first.
  std::vector<Source> top(std::size_t n) const;

 private:
  struct Slot {
    std::array<char, kAddressBytes> address{};
    std::uint8_t length = 0;
    std::uint64_t connections = 0;
    std::uint64_t error = 0;
    std::uint64_t refused = 0;
    std::string_view key() const noexcept { return {address.data(), length}; }
  };

  /// False when the mutex cannot be had (unrecoverable): then the event is not counted.
  bool lock() const noexcept;
  void unlock() const noexcept;

  mutable pthread_mutex_t mutex_;
  std::array<Slot, kMonitored> slots_{};
  std::size_t used_ = 0;
};

}  // namespace sockit::serve
