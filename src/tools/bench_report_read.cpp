#include "tools/bench_report_read.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "net/fd.hpp"
#include "net/text.hpp"
#include "tools/bench_histogram_json.hpp"
#include "tools/bench_json_read.hpp"

namespace sockit::tools {
namespace {

namespace read = json_read;

constexpr std::size_t kMaxName = 256;
constexpr std::size_t kMaxAddress = 64;

// Runs `read` and puts `where` in front of the message of what it throws.
template <class Read>
auto within(std::string_view where, Read&& read) {
  try {
    return read();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: {}", where, e.what()));
  }
}

std::uint64_t nanos(const nlohmann::json& latency, std::string_view key) {
  // 11.6 days, longer than any run (--duration is at most a day), and small enough that
  // microseconds as a double convert back to the same nanoseconds.
  constexpr double kMaxMicros = 1e12;
  const double us = read::non_negative(latency, key);
  if (us > kMaxMicros) throw std::invalid_argument(fmt::format("'{}' of {} us is past any run's length", key, us));
  return static_cast<std::uint64_t>(std::llround(us * 1000.0));
}

std::string optional_text(const nlohmann::json& object, std::string_view key, std::size_t max_length) {
  return read::member(object, key).is_null() ? std::string() : read::text(object, key, max_length);
}

LoadHost host_from(const nlohmann::json& json) {
  return {read::text(json, "name", kMaxName), optional_text(json, "address", kMaxAddress)};
}

WallWindow window_from(const nlohmann::json& json) {
  WallWindow w;
  w.start_ns = static_cast<std::int64_t>(read::whole(json, "start_unix_ns", INT64_MAX));
  w.end_ns = static_cast<std::int64_t>(read::whole(json, "end_unix_ns", INT64_MAX));
  if (w.end_ns < w.start_ns) throw std::invalid_argument("the window ends before it starts");
  return w;
}

RunSummary run_from(const nlohmann::json& json) {
  if (!json.is_object()) throw std::invalid_argument("not an object");
  RunSummary run;
  run.source = optional_text(json, "source", kMaxReportText);
  run.host = within("load_host", [&] { return host_from(read::child(json, "load_host")); });
  run.conns = static_cast<unsigned>(read::whole(json, "conns", UINT_MAX));
  run.threads = static_cast<unsigned>(read::whole(json, "threads", UINT_MAX));
  run.pipeline = static_cast<unsigned>(read::whole(json, "pipeline", UINT_MAX));
  run.rate = read::member(json, "rate").is_null() ? 0.0 : read::non_negative(json, "rate");
  run.window = within("window", [&] { return window_from(read::child(json, "window")); });
  run.requests = read::whole(json, "requests");
  run.errors = read::whole(json, "error_total");
  run.bytes_sent = read::whole(json, "bytes_sent");
  run.bytes_received = read::whole(json, "bytes_received");
  const auto& latency = read::child(json, "latency_us");
  run.p50_ns = within("latency_us", [&] { return nanos(latency, "p50"); });
  run.p99_ns = within("latency_us", [&] { return nanos(latency, "p99"); });
  run.max_ns = within("latency_us", [&] { return nanos(latency, "max"); });
  return run;
}

std::array<std::uint64_t, kErrorKinds> errors_from(const nlohmann::json& json) {
  std::array<std::uint64_t, kErrorKinds> errors{};
  for (std::size_t k = 0; k < kErrorKinds; ++k)
    errors[k] = read::whole(json, error_kind_name(static_cast<ErrorKind>(k)));
  for (const auto& [name, count] : json.items()) {
    bool known = false;
    for (std::size_t k = 0; k < kErrorKinds; ++k) known = known || error_kind_name(static_cast<ErrorKind>(k)) == name;
    if (!known)
      throw std::invalid_argument(fmt::format("'{}' is no kind of error this sockit counts", net::printable(name)));
  }
  return errors;
}

HttpCounters http_from(const nlohmann::json& json) {
  HttpCounters http;
  const auto& codes = read::child(json, "status_codes");
  std::uint64_t responses = 0;
  for (const auto& [code, count] : codes.items()) {
    const bool three_digits = code.size() == 3 && code.find_first_not_of("0123456789") == std::string::npos;
    const int number = three_digits ? std::stoi(code) : 0;
    if (number < 100 || number > 599)
      throw std::invalid_argument(fmt::format("status_codes: '{}' is not an HTTP status code (100-599)",
                                              net::printable(code)));
    const auto n = read::whole_value(count, "status_codes " + code);
    http.by_status[static_cast<std::size_t>(number - 100)] = n;
    responses = read::add(responses, n, "status_codes");
  }
  http.body_bytes = read::whole(json, "body_bytes");
  http.reconnects = read::whole(json, "reconnects");
  return http;
}

// The totals must be what the runs add up to, and the histogram must hold one latency per request.
void check_counts_add_up(const BenchReport& r) {
  const auto& c = r.counters;
  if (c.latency_ns.count() != c.requests)
    throw std::invalid_argument(fmt::format("the latency histogram holds {} latencies but the report counts {} requests",
                                            c.latency_ns.count(), c.requests));
  if (c.http.responses() > c.requests)
    throw std::invalid_argument(
        fmt::format("{} http status codes counted for {} requests", c.http.responses(), c.requests));
  std::uint64_t requests = 0, errors = 0, sent = 0, received = 0;
  for (const auto& run : r.runs) {
    requests = read::add(requests, run.requests, "the runs' requests");
    errors = read::add(errors, run.errors, "the runs' errors");
    sent = read::add(sent, run.bytes_sent, "the runs' bytes sent");
    received = read::add(received, run.bytes_received, "the runs' bytes received");
  }
  std::uint64_t error_total = 0;
  for (const auto n : c.errors) error_total = read::add(error_total, n, "the errors");
  const auto check = [](std::uint64_t runs, std::uint64_t total, std::string_view what) {
    if (runs != total)
      throw std::invalid_argument(fmt::format("the runs add up to {} {} but the report counts {}", runs, what, total));
  };
  check(requests, c.requests, "requests");
  check(errors, error_total, "errors");
  check(sent, c.bytes_sent, "bytes sent");
  check(received, c.bytes_received, "bytes received");
}

}  // namespace

BenchReport report_from_json(const nlohmann::json& json) {
  if (!json.is_object()) throw std::invalid_argument("not a sockit bench report (not a JSON object)");
  if (!json.contains("format"))
    throw std::invalid_argument("not a sockit bench report of version 1 or later: no 'format' (an older sockit "
                                "bench wrote no histogram; run it again)");
  if (const auto format = read::text(json, "format", kMaxName); format != kReportFormat)
    throw std::invalid_argument(fmt::format("not a sockit bench report: its format is '{}'", net::printable(format)));
  if (const auto version = read::whole(json, "version"); version != kReportVersion)
    throw std::invalid_argument(
        fmt::format("a report of version {}; this sockit reads version {}", version, kReportVersion));

  BenchReport r;
  r.workload = read::text(json, "workload", kMaxReportText);
  r.workload_options = read::member(json, "workload_options");  // null: a forced merge of different ones
  if (!r.workload_options.is_object() && !r.workload_options.is_null())
    throw std::invalid_argument("'workload_options' must be an object or null");
  r.transport = read::text(json, "transport", kMaxReportText);
  r.target = read::text(json, "target", kMaxReportText);
  const auto& runs = read::member(json, "runs");
  if (!runs.is_array() || runs.empty() || runs.size() > kMaxReportRuns)
    throw std::invalid_argument(fmt::format("'runs' must be an array of 1 to {} runs", kMaxReportRuns));
  for (std::size_t i = 0; i < runs.size(); ++i) {
    r.runs.push_back(within(fmt::format("runs[{}]", i), [&] { return run_from(runs[i]); }));
    for (std::size_t j = 0; j < i; ++j)
      if (same_run(r.runs[i], r.runs[j]))
        throw std::invalid_argument(fmt::format("runs[{}] is runs[{}] again: it would count twice", i, j));
  }

  auto& c = r.counters;
  c.requests = read::whole(json, "requests");
  c.bytes_sent = read::whole(json, "bytes_sent");
  c.bytes_received = read::whole(json, "bytes_received");
  c.errors = within("errors", [&] { return errors_from(read::child(json, "errors")); });
  c.latency_ns =
      within("latency_histogram", [&] { return histogram_from_json(read::member(json, "latency_histogram")); });
  if (const auto& http = read::member(json, "http"); !http.is_null()) {
    if (!http.is_object()) throw std::invalid_argument("'http' must be an object or null");
    r.http = true;
    c.http = within("http", [&] { return http_from(http); });
  }
  r.client_cpu_seconds =
      within("client_cpu", [&] { return read::non_negative(read::child(json, "client_cpu"), "seconds"); });
  check_counts_add_up(r);
  r.seconds = union_seconds(r.runs);
  r.overlap_seconds = overlap_seconds(r.runs);
  r.client_cpu_window = r.seconds;
  return r;
}

BenchReport parse_report(std::string_view text) {
  // nlohmann's parser keeps its own stack, but nothing here nests deeper than a few levels:
  // refuse more before building it.
  using Event = nlohmann::json::parse_event_t;
  const nlohmann::json::parser_callback_t shallow = [](int depth, Event event, nlohmann::json&) {
    const bool opens = event == Event::object_start || event == Event::array_start;
    if (opens && depth >= kMaxReportDepth)
      throw std::invalid_argument(fmt::format("JSON nested deeper than {} levels: not a sockit bench report",
                                              kMaxReportDepth));
    return true;
  };
  // nlohmann's lexer takes a NUL for the end of the input and would ignore what follows it; no
  // JSON text holds one (a string escapes it as \u0000).
  if (const auto nul = text.find('\0'); nul != text.npos)
    throw std::invalid_argument(fmt::format("not JSON: a NUL byte at offset {}", nul));
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.begin(), text.end(), shallow);
  } catch (const nlohmann::json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 3: ..." without its tag.
    std::string_view why = e.what();
    if (const auto tag = why.find("] "); why.starts_with("[json.exception") && tag != why.npos)
      why.remove_prefix(tag + 2);
    throw std::invalid_argument(fmt::format("not JSON: {}", why));
  }
  return report_from_json(json);
}

BenchReport read_report_file(const std::string& path) {
  // O_NONBLOCK: a FIFO with no writer must not hang the open; only regular files are read.
  net::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) throw std::invalid_argument(fmt::format("cannot open: {}", std::strerror(errno)));
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) throw std::invalid_argument(fmt::format("cannot stat: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) throw std::invalid_argument("not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxReportBytes)
    throw std::invalid_argument(fmt::format("{} bytes: a report is at most {} bytes", st.st_size, kMaxReportBytes));
  // One byte more than its size tells a file that grew since fstat().
  std::string text(static_cast<std::size_t>(st.st_size) + 1, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const auto n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::invalid_argument(fmt::format("cannot read: {}", std::strerror(errno)));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got == text.size()) throw std::invalid_argument("the file grew while it was read");
  text.resize(got);
  return parse_report(text);
}

}  // namespace sockit::tools
