#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tools/bench_driver.hpp"

namespace sockit::tools {

/// Figures derived from a run, in the units the report prints.
struct BenchFigures {
  double seconds = 0;            ///< the measured window
  double requests_per_s = 0;
  double bytes_per_s = 0;        ///< received (the direction every workload has)
  double body_bytes_per_s = 0;   ///< http: response bodies only
  double client_cpu_percent = 0; ///< of one core
  double server_cpu_percent = 0; ///< of one core; 0 without --server-pid
  double server_us_per_request = 0;
};
BenchFigures figures_of(const BenchResult& result);

/// "tcp", "udp", or "unix" for a unix: target.
std::string_view transport_name(const BenchConfig& config);

/// The top `n` status codes with their counts: "404 x1200, 500 x3".
std::string top_codes_text(const HttpCounters& http, std::size_t n = 5);

/// The human-readable report: throughput, errors by kind, latency percentiles, CPU; for http
/// also status classes, the top status codes, body bytes/s and reconnects.
/// `name` and `target` label it ("echo", "127.0.0.1:10007").
std::string format_table(const BenchConfig& config, const BenchResult& result, const std::string& name,
                         const std::string& target);

/// The same as JSON (latencies in microseconds).
nlohmann::json to_json(const BenchConfig& config, const BenchResult& result, const std::string& name,
                       const std::string& target);

}  // namespace sockit::tools
