#include "tools/bench_counters.hpp"

#include <cerrno>
#include <algorithm>
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
  http.merge(other.http);
  if (first_wrong.empty()) first_wrong = other.first_wrong;
}

void HttpCounters::record(int code, std::uint64_t body) noexcept {
  if (code >= 100 && code < 600) ++by_status[static_cast<std::size_t>(code - 100)];
  body_bytes += body;
}

std::uint64_t HttpCounters::in_class(int hundreds) const noexcept {
  if (hundreds < 1 || hundreds > 5) return 0;
  const auto from = by_status.begin() + (hundreds - 1) * 100;
  return std::accumulate(from, from + 100, std::uint64_t{0});
}

std::uint64_t HttpCounters::responses() const noexcept {
  return std::accumulate(by_status.begin(), by_status.end(), std::uint64_t{0});
}

std::vector<std::pair<int, std::uint64_t>> HttpCounters::top(std::size_t n) const {
  std::vector<std::pair<int, std::uint64_t>> codes;
  for (std::size_t i = 0; i < by_status.size(); ++i)
    if (by_status[i]) codes.emplace_back(static_cast<int>(i) + 100, by_status[i]);
  std::stable_sort(codes.begin(), codes.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (codes.size() > n) codes.resize(n);
  return codes;
}

void HttpCounters::merge(const HttpCounters& other) noexcept {
  for (std::size_t i = 0; i < by_status.size(); ++i) by_status[i] += other.by_status[i];
  body_bytes += other.body_bytes;
  reconnects += other.reconnects;
}

}  // namespace sockit::tools
