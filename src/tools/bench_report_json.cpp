#include <fmt/core.h>

#include <algorithm>

#include "tools/bench_histogram_json.hpp"
#include "tools/bench_report.hpp"

namespace sockit::tools {
namespace {

double micros(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

nlohmann::json nullable_rate(double rate) { return rate > 0 ? nlohmann::json(rate) : nlohmann::json(nullptr); }

nlohmann::json host_json(const LoadHost& host) {
  return {{"name", host.name},
          {"address", host.address.empty() ? nlohmann::json(nullptr) : nlohmann::json(host.address)}};
}

nlohmann::json window_json(const WallWindow& w) {
  return {{"start", utc_text(w.start_ns)}, {"end", utc_text(w.end_ns)}, {"start_unix_ns", w.start_ns},
          {"end_unix_ns", w.end_ns}};
}

nlohmann::json run_json(const RunSummary& run) {
  const double seconds = run.window.seconds();
  return {{"source", run.source.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.source)},
          {"load_host", host_json(run.host)},
          {"conns", run.conns},
          {"threads", run.threads},
          {"pipeline", run.pipeline},
          {"rate", nullable_rate(run.rate)},
          {"window", window_json(run.window)},
          {"seconds", seconds},
          {"requests", run.requests},
          {"requests_per_s", seconds > 0 ? static_cast<double>(run.requests) / seconds : 0.0},
          {"error_total", run.errors},
          {"bytes_sent", run.bytes_sent},
          {"bytes_received", run.bytes_received},
          {"latency_us", {{"p50", micros(run.p50_ns)}, {"p99", micros(run.p99_ns)}, {"max", micros(run.max_ns)}}}};
}

// The union of the runs' windows as one span: from the first start to the last end.
nlohmann::json merged_window_json(const BenchReport& report) {
  WallWindow span = report.runs.empty() ? WallWindow{} : report.runs.front().window;
  for (const auto& run : report.runs) {
    span.start_ns = std::min(span.start_ns, run.window.start_ns);
    span.end_ns = std::max(span.end_ns, run.window.end_ns);
  }
  auto json = window_json(span);
  json["seconds"] = report.seconds;
  json["overlap_seconds"] = report.overlap_seconds;
  return json;
}

nlohmann::json http_json(const HttpCounters& h, double body_bytes_per_s) {
  nlohmann::json classes = nlohmann::json::object();
  for (int hundreds = 2; hundreds <= 5; ++hundreds) classes[fmt::format("{}xx", hundreds)] = h.in_class(hundreds);
  nlohmann::json top = nlohmann::json::object();
  for (const auto& [code, count] : h.top(kTopStatusCodes)) top[std::to_string(code)] = count;
  nlohmann::json all = nlohmann::json::object();
  for (std::size_t i = 0; i < h.by_status.size(); ++i)
    if (h.by_status[i]) all[std::to_string(i + 100)] = h.by_status[i];
  return {{"responses", h.responses()}, {"status_classes", classes}, {"top_status_codes", top},
          {"status_codes", all},        {"body_bytes", h.body_bytes}, {"body_bytes_per_s", body_bytes_per_s},
          {"reconnects", h.reconnects}};
}

}  // namespace

nlohmann::json to_json(const BenchReport& report) {
  const auto f = figures_of(report);
  const auto shape = shape_of(report);
  const auto& c = report.counters;
  nlohmann::json errors = nlohmann::json::object();
  for (std::size_t k = 0; k < kErrorKinds; ++k)
    errors[std::string(error_kind_name(static_cast<ErrorKind>(k)))] = c.errors[k];
  nlohmann::json latency = nlohmann::json::object();
  for (const auto& [label, p] : kReportPercentiles) latency[label] = micros(c.latency_ns.percentile(p));
  latency["mean"] = c.latency_ns.mean() / 1000.0;
  latency["min"] = micros(c.latency_ns.min());
  const bool single = report.runs.size() == 1 && report.runs.front().source.empty();
  nlohmann::json json = {
      {"format", kReportFormat},
      {"version", kReportVersion},
      {"workload", report.workload},
      {"workload_options", report.workload_options},
      {"target", report.target},
      {"transport", report.transport},
      {"load_host", single ? host_json(report.runs.front().host) : nlohmann::json(nullptr)},
      {"conns", shape.conns},
      {"threads", shape.threads},
      {"pipeline", shape.pipeline ? nlohmann::json(*shape.pipeline) : nlohmann::json(nullptr)},
      {"rate", nullable_rate(shape.rate)},
      {"window", merged_window_json(report)},
      {"seconds", report.seconds},
      {"requests", c.requests},
      {"requests_per_s", f.requests_per_s},
      {"bytes_sent", c.bytes_sent},
      {"bytes_received", c.bytes_received},
      {"bytes_per_s", f.bytes_per_s},
      {"errors", errors},
      {"error_total", c.error_total()},
      {"latency_us", latency},
      {"latency_histogram", histogram_to_json(c.latency_ns)},
      {"client_cpu", {{"seconds", report.client_cpu_seconds}, {"percent_of_core", f.client_cpu_percent}}},
      {"server_cpu", nullptr},
      {"http", report.http ? http_json(c.http, f.body_bytes_per_s) : nlohmann::json(nullptr)},
      {"runs", nlohmann::json::array()},
  };
  for (const auto& run : report.runs) json["runs"].push_back(run_json(run));
  if (report.server_cpu) {
    const auto& s = *report.server_cpu;
    json["server_cpu"] = {{"pid", s.pid},
                          {"seconds", s.user_seconds + s.system_seconds},
                          {"user_seconds", s.user_seconds},
                          {"system_seconds", s.system_seconds},
                          {"percent_of_core", f.server_cpu_percent},
                          {"us_per_request", f.server_us_per_request}};
  }
  return json;
}

}  // namespace sockit::tools
