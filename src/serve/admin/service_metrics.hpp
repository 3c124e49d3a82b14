#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "serve/admin/prometheus_text.hpp"
#include "serve/admin/rate_meter.hpp"
#include "serve/admin/status_source.hpp"
#include "serve/metrics.hpp"

namespace sockit::serve::admin {

/// One service's name and its counters summed at one moment.
struct CountedService {
  std::string name;
  ServiceTotals totals;
};

/// Every service `metrics` counts, in the order they were first counted.
std::vector<CountedService> counted_services(const Metrics& metrics);

/// The families every server counts (docs/admin.md lists them), one sample per service of
/// `services`, labelled service="NAME": sockit_connections_open, sockit_connections_total,
/// sockit_connections_refused_total (also labelled reason="max-conns"...),
/// sockit_requests_total, sockit_received_bytes_total, sockit_sent_bytes_total and the
/// sockit_request_duration_seconds histogram.
void write_service_metrics(std::span<const CountedService> services, PrometheusText& page);
/// The same for every service of `metrics`.
void write_service_metrics(const Metrics& metrics, PrometheusText& page);

/// One service's row of /status.json's "services" (without its addresses): connections open
/// and total, requests and requests a second, bytes both ways and a second, refusals by reason,
/// and the median and 99th percentile latency of the requests of the last window (null when
/// none was answered in it).
Json service_row(std::string_view name, const ServiceTotals& totals, RateMeter& rates);

/// The busiest `n` sources (TopSources), most connections first: "source", "connections",
/// "error" (how many of them may belong to sources it no longer follows) and "refused".
Json busiest_sources(const Metrics& metrics, std::size_t n);

/// Refusals by reason summed over `services`: {"max-conns": N, ...}, every reason present.
Json refusals(std::span<const CountedService> services);
/// The same over every service of `metrics`.
Json refusals(const Metrics& metrics);

}  // namespace sockit::serve::admin
