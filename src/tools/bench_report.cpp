#include "tools/bench_report.hpp"

#include <fmt/core.h>
#include <sys/socket.h>

#include <array>
#include <utility>

namespace sockit::tools {
namespace {

constexpr std::array<std::pair<const char*, double>, 5> kPercentiles{{
    {"p50", 50.0}, {"p90", 90.0}, {"p99", 99.0}, {"p99_9", 99.9}, {"max", 100.0}}};

double seconds_of(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

double micros(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

// 1234567 -> "1.23M"; numbers for people.
std::string si(double value) {
  if (value >= 1e9) return fmt::format("{:.2f}G", value / 1e9);
  if (value >= 1e6) return fmt::format("{:.2f}M", value / 1e6);
  if (value >= 1e3) return fmt::format("{:.2f}k", value / 1e3);
  return fmt::format("{:.1f}", value);
}

std::string duration_text(std::uint64_t ns) {
  if (ns >= 1'000'000'000) return fmt::format("{:.2f} s", static_cast<double>(ns) / 1e9);
  if (ns >= 1'000'000) return fmt::format("{:.2f} ms", static_cast<double>(ns) / 1e6);
  return fmt::format("{:.1f} us", static_cast<double>(ns) / 1e3);
}

bool is_http(const BenchConfig& config) { return config.exchange.expect.mode == Expectation::Mode::http; }

constexpr std::size_t kTopCodes = 5;

std::string mode_text(const BenchConfig& config) {
  return config.rate > 0 ? fmt::format("open loop at {} req/s", si(config.rate)) : "closed loop";
}

}  // namespace

std::string_view transport_name(const BenchConfig& config) {
  if (config.target.family() == AF_UNIX) return "unix";
  return config.exchange.udp ? "udp" : "tcp";
}

BenchFigures figures_of(const BenchResult& result) {
  BenchFigures f;
  f.seconds = seconds_of(result.window);
  if (f.seconds <= 0) return f;
  const auto& c = result.counters;
  f.requests_per_s = static_cast<double>(c.requests) / f.seconds;
  f.bytes_per_s = static_cast<double>(c.bytes_received) / f.seconds;
  f.body_bytes_per_s = static_cast<double>(c.http.body_bytes) / f.seconds;
  const double cpu_seconds = result.cpu_window.count() > 0 ? seconds_of(result.cpu_window) : f.seconds;
  f.client_cpu_percent = 100.0 * seconds_of(result.client_cpu.total()) / cpu_seconds;
  if (result.server_cpu) {
    const double server = seconds_of(result.server_cpu->total());
    f.server_cpu_percent = 100.0 * server / cpu_seconds;
    f.server_us_per_request = c.requests ? server * 1e6 / static_cast<double>(c.requests) : 0.0;
  }
  return f;
}

std::string top_codes_text(const HttpCounters& http, std::size_t n) {
  std::string text;
  for (const auto& [code, count] : http.top(n)) text += fmt::format("{}{} x{}", text.empty() ? "" : ", ", code, count);
  return text;
}

std::string format_table(const BenchConfig& config, const BenchResult& result, const std::string& name,
                         const std::string& target) {
  const auto f = figures_of(result);
  const auto& c = result.counters;
  std::string out;
  out += fmt::format("{} against {} ({}): {} connection{}, {} thread{}, pipeline {}, {}\n", name, target,
                     transport_name(config), config.conns, config.conns == 1 ? "" : "s", config.threads,
                     config.threads == 1 ? "" : "s", config.pipeline, mode_text(config));
  out += fmt::format("  {:<14} {} in {:.2f} s\n", "requests", c.requests, f.seconds);
  out += fmt::format("  {:<14} {}/s\n", "throughput", si(f.requests_per_s));
  out += fmt::format("  {:<14} {}B/s received, {}B sent, {}B received\n", "bytes", si(f.bytes_per_s),
                     si(static_cast<double>(c.bytes_sent)), si(static_cast<double>(c.bytes_received)));
  if (is_http(config)) {
    const auto& h = c.http;
    out += fmt::format("  {:<14} {}B/s, {}B in {} responses\n", "bodies", si(f.body_bytes_per_s),
                       si(static_cast<double>(h.body_bytes)), h.responses());
    out += fmt::format("  {:<14} 2xx {}, 3xx {}, 4xx {}, 5xx {}{}\n", "status", h.in_class(2), h.in_class(3),
                       h.in_class(4), h.in_class(5), h.responses() ? " (" + top_codes_text(h, kTopCodes) + ")" : "");
    out += fmt::format("  {:<14} {} (the server ended a connection after a response or while idle)\n",
                       "reconnects", h.reconnects);
  }
  std::string errors;
  for (std::size_t k = 0; k < kErrorKinds; ++k)
    errors += fmt::format("{}{} {}", errors.empty() ? "" : ", ", error_kind_name(static_cast<ErrorKind>(k)), c.errors[k]);
  out += fmt::format("  {:<14} {} ({})\n", "errors", c.error_total(), errors);
  out += fmt::format("  {:<14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "latency", "p50", "p90", "p99", "p99.9",
                     "max", "mean");
  std::string row;
  for (const auto& [label, p] : kPercentiles) row += fmt::format(" {:>10}", duration_text(c.latency_ns.percentile(p)));
  out += fmt::format("  {:<14}{} {:>10}\n", "", row,
                     duration_text(static_cast<std::uint64_t>(c.latency_ns.mean())));
  out += fmt::format("  {:<14} {:.0f}% of a core\n", "client cpu", f.client_cpu_percent);
  if (result.server_cpu)
    out += fmt::format("  {:<14} {:.0f}% of a core, {:.2f} us per request (pid {})\n", "server cpu",
                       f.server_cpu_percent, f.server_us_per_request, *config.server_pid);
  return out;
}

nlohmann::json to_json(const BenchConfig& config, const BenchResult& result, const std::string& name,
                       const std::string& target) {
  const auto f = figures_of(result);
  const auto& c = result.counters;
  nlohmann::json errors = nlohmann::json::object();
  for (std::size_t k = 0; k < kErrorKinds; ++k) errors[std::string(error_kind_name(static_cast<ErrorKind>(k)))] = c.errors[k];
  nlohmann::json latency = nlohmann::json::object();
  for (const auto& [label, p] : kPercentiles) latency[label] = micros(c.latency_ns.percentile(p));
  latency["mean"] = c.latency_ns.mean() / 1000.0;
  latency["min"] = micros(c.latency_ns.min());
  nlohmann::json report = {
      {"workload", name},
      {"target", target},
      {"transport", transport_name(config)},
      {"conns", config.conns},
      {"threads", config.threads},
      {"pipeline", config.pipeline},
      {"rate", config.rate > 0 ? nlohmann::json(config.rate) : nlohmann::json(nullptr)},
      {"seconds", f.seconds},
      {"requests", c.requests},
      {"requests_per_s", f.requests_per_s},
      {"bytes_sent", c.bytes_sent},
      {"bytes_received", c.bytes_received},
      {"bytes_per_s", f.bytes_per_s},
      {"errors", errors},
      {"error_total", c.error_total()},
      {"latency_us", latency},
      {"client_cpu", {{"seconds", seconds_of(result.client_cpu.total())}, {"percent_of_core", f.client_cpu_percent}}},
      {"server_cpu", nullptr},
      {"http", nullptr},
  };
  if (is_http(config)) {
    const auto& h = c.http;
    nlohmann::json classes = nlohmann::json::object();
    for (int hundreds = 2; hundreds <= 5; ++hundreds) classes[fmt::format("{}xx", hundreds)] = h.in_class(hundreds);
    nlohmann::json codes = nlohmann::json::object();
    for (const auto& [code, count] : h.top(kTopCodes)) codes[std::to_string(code)] = count;
    report["http"] = {{"responses", h.responses()},   {"status_classes", classes},
                      {"top_status_codes", codes},    {"body_bytes", h.body_bytes},
                      {"body_bytes_per_s", f.body_bytes_per_s}, {"reconnects", h.reconnects}};
  }
  if (result.server_cpu)
    report["server_cpu"] = {{"pid", *config.server_pid},
                            {"seconds", seconds_of(result.server_cpu->total())},
                            {"user_seconds", seconds_of(result.server_cpu->user)},
                            {"system_seconds", seconds_of(result.server_cpu->system)},
                            {"percent_of_core", f.server_cpu_percent},
                            {"us_per_request", f.server_us_per_request}};
  return report;
}

}  // namespace sockit::tools
