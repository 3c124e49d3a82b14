#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tools/bench_histogram.hpp"

namespace sockit::tools {

/// Why a request failed. Each failure closes its connection (a stream cannot be resynchronised)
/// and counts once.
enum class ErrorKind { refused, reset, timeout, wrong_reply, closed, no_descriptors, other };
inline constexpr std::size_t kErrorKinds = 7;

/// "refused", "reset", "timeout", "wrong_reply", "closed" (the peer closed mid-request),
/// "no_descriptors" (EMFILE/ENFILE: this process is out of file descriptors), "other".
std::string_view error_kind_name(ErrorKind kind) noexcept;
/// ECONNREFUSED and ENOENT (a unix: path with no socket at it: nobody listens there either) ->
/// refused, ECONNRESET/EPIPE -> reset, ETIMEDOUT -> timeout, EMFILE/ENFILE -> no_descriptors,
/// else other.
ErrorKind classify_errno(int err) noexcept;

/// What one thread measured inside the window; merged across threads at the end.
struct BenchCounters {
  std::uint64_t requests = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::array<std::uint64_t, kErrorKinds> errors{};
  LatencyHistogram latency_ns;  ///< one entry per completed request

  void count_error(ErrorKind kind) noexcept { ++errors[static_cast<std::size_t>(kind)]; }
  std::uint64_t error_total() const noexcept;
  void merge(const BenchCounters& other) noexcept;
};

}  // namespace sockit::tools
