#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

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

/// What the http workload counts besides requests.
struct HttpCounters {
  std::array<std::uint64_t, 500> by_status{};  ///< final responses by status code, [code - 100]
  std::uint64_t body_bytes = 0;  ///< of the responses counted (chunked: the data only)
  /// Connections the server ended after a response (Connection: close, HTTP/1.0, a body
  /// delimited by the close, an idle keep-alive connection closed) and opened again: no error.
  std::uint64_t reconnects = 0;

  /// A final response with status `code` (100-599) and `body` bytes.
  void record(int code, std::uint64_t body) noexcept;
  /// Responses whose status is `hundreds`xx (2: 2xx).
  std::uint64_t in_class(int hundreds) const noexcept;
  std::uint64_t responses() const noexcept;
  /// The `n` most frequent codes with their counts, most frequent (then lowest code) first.
  std::vector<std::pair<int, std::uint64_t>> top(std::size_t n) const;
  void merge(const HttpCounters& other) noexcept;
};

/// What one thread measured inside the window; merged across threads at the end.
struct BenchCounters {
  std::uint64_t requests = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::array<std::uint64_t, kErrorKinds> errors{};
  LatencyHistogram latency_ns;  ///< one entry per completed request
  HttpCounters http;
  /// Why the first wrong reply was wrong, when the workload can tell (a static string).
  std::string_view first_wrong;

  void count_error(ErrorKind kind) noexcept { ++errors[static_cast<std::size_t>(kind)]; }
  std::uint64_t error_total() const noexcept;
  void merge(const BenchCounters& other) noexcept;
};

}  // namespace sockit::tools
