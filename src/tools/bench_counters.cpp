#include "tools/bench_counters.hpp"

#include <cerrno>
#include <numeric>

namespace sockit::tools {

std::string_view error_kind_name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::refused: return "refused";
    case ErrorKind::reset: return "reset";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::wrong_reply: return "wrong_reply";
    case ErrorKind::closed: return "closed";
    case ErrorKind::no_descriptors: return "no_descriptors";
    case ErrorKind::other: return "other";
  }
  return "other";
}

ErrorKind classify_errno(int err) noexcept {
  switch (err) {
    case ECONNREFUSED:
    case ENOENT: return ErrorKind::refused;
    case ECONNRESET:
    case EPIPE: return ErrorKind::reset;
    case ETIMEDOUT: return ErrorKind::timeout;
    case EMFILE:
    case ENFILE: return ErrorKind::no_descriptors;
    default: return ErrorKind::other;
  }
}

std::uint64_t BenchCounters::error_total() const noexcept {
  return std::accumulate(errors.begin(), errors.end(), std::uint64_t{0});
}

void BenchCounters::merge(const BenchCounters& other) noexcept {
  requests += other.requests;
  bytes_sent += other.bytes_sent;
  bytes_received += other.bytes_received;
  for (std::size_t i = 0; i < kErrorKinds; ++i) errors[i] += other.errors[i];
  latency_ns.merge(other.latency_ns);
}

}  // namespace sockit::tools
