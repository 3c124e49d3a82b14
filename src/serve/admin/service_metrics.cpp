#include "serve/admin/service_metrics.hpp"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace sockit::serve::admin {
namespace {

constexpr std::array<double, kLatencyBounds.size()> bounds_in_seconds() {
  std::array<double, kLatencyBounds.size()> seconds{};
  for (std::size_t i = 0; i < seconds.size(); ++i) seconds[i] = static_cast<double>(kLatencyBounds[i]) / 1e9;
  return seconds;
}
constexpr auto kBoundsInSeconds = bounds_in_seconds();

// The q-quantile of a histogram's buckets, interpolated linearly inside its bucket (as
// Prometheus's histogram_quantile does); one in the +Inf bucket is the last bound.
std::optional<double> quantile(double q, const std::vector<std::uint64_t>& counts) {
  std::uint64_t total = 0;
  for (const auto c : counts) total += c;
  if (total == 0) return std::nullopt;
  const double rank = q * static_cast<double>(total);
  std::uint64_t below = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (static_cast<double>(below + counts[i]) >= rank && counts[i] > 0) {
      if (i == kBoundsInSeconds.size()) return kBoundsInSeconds.back();
      const double lower = i == 0 ? 0 : kBoundsInSeconds[i - 1];
      const double fraction = (rank - static_cast<double>(below)) / static_cast<double>(counts[i]);
      return lower + (kBoundsInSeconds[i] - lower) * fraction;
    }
    below += counts[i];
  }
  return kBoundsInSeconds.back();
}

Json maybe(std::optional<double> value) { return value ? Json(*value) : Json(nullptr); }

}  // namespace

std::vector<CountedService> counted_services(const Metrics& metrics) {
  std::vector<CountedService> all;
  for (const auto& service : metrics.services())
    all.push_back({std::string(service.name), service.counters->totals()});
  return all;
}

void write_service_metrics(const Metrics& metrics, PrometheusText& page) {
  write_service_metrics(counted_services(metrics), page);
}

void write_service_metrics(std::span<const CountedService> all, PrometheusText& page) {
  auto counter = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    page.family(name, type, help);
    for (const auto& row : all) page.sample(name, {{"service", row.name}}, value(row.totals));
  };
  counter("sockit_connections_open", "gauge", "Connections being served now.",
          [](const ServiceTotals& t) { return t.open(); });
  counter("sockit_connections_total", "counter", "Connections accepted and served (refused ones are not).",
          [](const ServiceTotals& t) { return t.connections; });
  page.family("sockit_connections_refused_total", "counter", "Connections refused, by reason.");
  for (const auto& row : all)
    for (std::size_t r = 0; r < kConnectionRefusalKinds; ++r)
      page.sample("sockit_connections_refused_total",
                  {{"service", row.name}, {"reason", refusal_name(static_cast<ConnectionRefusal>(r))}},
                  row.totals.refused[r]);
  counter("sockit_requests_total", "counter", "Requests answered (what each service calls a request).",
          [](const ServiceTotals& t) { return t.requests; });
  counter("sockit_received_bytes_total", "counter", "Bytes read from clients.",
          [](const ServiceTotals& t) { return t.received; });
  counter("sockit_sent_bytes_total", "counter", "Bytes handed to the kernel for clients.",
          [](const ServiceTotals& t) { return t.sent; });
  page.family("sockit_request_duration_seconds", "histogram",
              "From the read that brought a request's first byte to the send that handed the kernel the last byte "
              "of its answer.");
  for (const auto& row : all)
    page.histogram("sockit_request_duration_seconds", {{"service", row.name}}, kBoundsInSeconds, row.totals.latency,
                   static_cast<double>(row.totals.latency_ns) / 1e9);
}

Json service_row(std::string_view name, const ServiceTotals& totals, RateMeter& rates) {
  const auto now = RateMeter::Clock::now();
  const std::string key(name);
  Json refused = Json::object();
  for (std::size_t r = 0; r < kConnectionRefusalKinds; ++r)
    if (totals.refused[r] > 0) refused[std::string(refusal_name(static_cast<ConnectionRefusal>(r)))] = totals.refused[r];
  const auto recent = rates.growth(key + "/latency", totals.latency, now);
  return {{"service", key},
          {"connections_open", totals.open()},
          {"connections_total", totals.connections},
          {"refused", refused},
          {"requests_total", totals.requests},
          {"requests_per_second", rates.rate(key + "/requests", static_cast<double>(totals.requests), now)},
          {"received_bytes", totals.received},
          {"received_bytes_per_second", rates.rate(key + "/received", static_cast<double>(totals.received), now)},
          {"sent_bytes", totals.sent},
          {"sent_bytes_per_second", rates.rate(key + "/sent", static_cast<double>(totals.sent), now)},
          {"latency_p50_seconds", maybe(quantile(0.5, recent))},
          {"latency_p99_seconds", maybe(quantile(0.99, recent))}};
}

Json busiest_sources(const Metrics& metrics, std::size_t n) {
  Json all = Json::array();
  for (const auto& s : metrics.sources().top(n))
    all.push_back({{"source", s.address}, {"connections", s.connections}, {"error", s.error}, {"refused", s.refused}});
  return all;
}

Json refusals(const Metrics& metrics) { return refusals(counted_services(metrics)); }

Json refusals(std::span<const CountedService> services) {
  std::array<std::uint64_t, kConnectionRefusalKinds> sums{};
  for (const auto& row : services)
    for (std::size_t r = 0; r < sums.size(); ++r) sums[r] += row.totals.refused[r];
  Json all = Json::object();
  for (std::size_t r = 0; r < sums.size(); ++r) all[std::string(refusal_name(static_cast<ConnectionRefusal>(r)))] = sums[r];
  return all;
}

}  // namespace sockit::serve::admin
