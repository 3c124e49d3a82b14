#include <fmt/core.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "cli/bench_merge.hpp"
#include "cli/command.hpp"
#include "cli/option_checks.hpp"
#include "cli/usage_error.hpp"
#include "net/address.hpp"
#include "net/text.hpp"
#include "tools/bench_driver.hpp"
#include "tools/bench_report.hpp"
#include "tools/bench_workload.hpp"
#include "tools/fd_limit.hpp"
#include "tools/http_url.hpp"

namespace sockit::cli {
namespace {

struct BenchOptions {
  std::string workload;
  std::string target;
  std::size_t size = 0;
  unsigned n = 27;
  std::string send;
  std::string expect;
  std::size_t expect_bytes = 0;
  unsigned conns = 10;
  unsigned threads = 1;
  unsigned pipeline = 1;
  double rate = 0;
  double duration = 5;
  double warmup = 1;
  double timeout = 5;
  bool udp = false;
  std::string method = "GET";
  int server_pid = 0;
  std::string load_host;
  double start_at = 0;
  bool json = false;
};

// DESIGN.md's default ports, so `sockit bench echo` finds `sockit serve`.
std::string default_target(tools::Workload w) {
  switch (w) {
    case tools::Workload::fib: return "127.0.0.1:9000";
    case tools::Workload::time: return "127.0.0.1:10037";
    case tools::Workload::daytime: return "127.0.0.1:10013";
    case tools::Workload::http: return "http://127.0.0.1:8080/";
    default: return "127.0.0.1:10007";
  }
}

// The positional target: an http:// URL (the http workload's), else HOST:PORT or unix:PATH.
CLI::Validator target_check() {
  const auto host_port = checks::host_port(true);
  return CLI::Validator(
      [host_port](std::string& text) {
        if (!tools::looks_like_url(text)) return host_port(text);
        try {
          const auto url = tools::parse_http_url(text);
          if (auto problem = checks::check_host_text(url.host); !problem.empty()) return problem;
          return checks::check_port_text(url.port, false);
        } catch (const std::invalid_argument& e) {
          return std::string(e.what());
        }
      },
      "HOST:PORT|unix:PATH|URL");
}

net::Address resolve_target(const std::string& text, bool udp, tools::Workload workload) {
  if (text.starts_with("unix:")) return net::Address::parse(text).value();
  // Checked by the option's validator (the URL) and run() (which form the workload takes).
  net::HostPort parts;
  if (workload == tools::Workload::http) {
    const auto url = tools::parse_http_url(text);
    parts = {url.host, url.port};
  } else {
    parts = net::split_host_port(text).value();
  }
  const auto found = net::resolve(parts.host, parts.port, {.family = AF_UNSPEC, .socktype = udp ? SOCK_DGRAM : SOCK_STREAM})
                         .value();
  if (found.empty()) throw std::runtime_error("no address for " + text);
  return found.front().address;
}

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0 + 0.5));
}

// Each connection holds a descriptor (and each thread an epoll): a --conns the limit can't hold
// would only fail as thousands of EMFILE errors.
void check_descriptors(unsigned conns, unsigned threads) {
  constexpr std::size_t kSpare = 32;  // stdio, epolls' neighbours, the server PID's /proc files
  const auto limit = tools::raise_descriptor_limit();
  if (conns + threads + kSpare > limit)
    throw UsageError(fmt::format("--conns {}: each connection needs a file descriptor and this process may open {} "
                                 "(ulimit -n); use at most {} or raise the limit",
                                 conns, limit, net::counted(limit > threads + kSpare ? limit - threads - kSpare : 0,
                                                            "connection")));
}

// --start-at: load hosts started by hand or over ssh begin seconds apart; a common wall-clock
// time makes their windows the same (what bench merge calls "all at once").
void wait_for_start(double unix_seconds) {
  constexpr double kMaxWait = 3600;
  const auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (unix_seconds < now)
    throw UsageError(fmt::format("--start-at {:.3f} has passed ({:.3f} s ago)", unix_seconds, now - unix_seconds));
  if (unix_seconds - now > kMaxWait)
    throw UsageError(fmt::format("--start-at {:.3f} is {:.0f} s away; at most {:.0f}", unix_seconds,
                                 unix_seconds - now, kMaxWait));
  std::this_thread::sleep_until(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(unix_seconds))));
}

// Exit 1 when the numbers mean nothing: no request succeeded, or the server answered wrongly.
int verdict(const tools::BenchResult& result) {
  const auto& c = result.counters;
  const auto wrong = c.errors[static_cast<std::size_t>(tools::ErrorKind::wrong_reply)];
  if (c.requests == 0) {
    std::string kinds;
    for (std::size_t kind = 0; kind < tools::kErrorKinds; ++kind) {
      if (c.errors[kind] == 0) continue;
      kinds += fmt::format("{}{} {}", kinds.empty() ? ": " : ", ", c.errors[kind],
                           tools::error_kind_name(static_cast<tools::ErrorKind>(kind)));
    }
    fmt::print(stderr, "sockit bench: no request succeeded ({}{}{})\n", net::counted(c.error_total(), "error"), kinds,
               c.first_wrong.empty() ? "" : fmt::format("; the first wrong reply: {}", c.first_wrong));
    return 1;
  }
  if (wrong > 0) {
    fmt::print(stderr, "sockit bench: {}: the server does not answer as the workload expects{}\n",
               net::counted(wrong, "wrong reply", "wrong replies"),
               c.first_wrong.empty() ? "" : fmt::format(" (the first: {})", c.first_wrong));
    return 1;
  }
  // A load test of a URL the server refuses (404) or fails (500) measures error pages: say so.
  if (const auto refused = c.http.in_class(4) + c.http.in_class(5); refused > 0) {
    fmt::print(stderr, "sockit bench: {} of {} were 4xx or 5xx ({}): the server did not serve the URL\n",
               refused, net::counted(c.http.responses(), "response"), tools::top_codes_text(c.http));
    return 1;
  }
  return 0;
}

int run(const BenchOptions& o) {
  if (o.workload.empty())
    throw UsageError("a workload is required: echo | fib | time | daytime | connect | stream | raw | http (or: "
                     "sockit bench merge FILE.json...)");
  const auto workload = *tools::parse_workload(o.workload);
  const bool http = workload == tools::Workload::http;
  const std::string target = o.target.empty() ? default_target(workload) : o.target;
  if (http != tools::looks_like_url(target))
    throw UsageError(http ? fmt::format("http takes a URL, not '{}': e.g. http://{}/", target, target)
                          : fmt::format("a URL is the http workload's target; {} takes HOST:PORT", o.workload));
  if (o.method != "GET" && !http) throw UsageError("--method is the http workload's");
  tools::BenchConfig config;
  check_descriptors(o.conns, std::min(o.threads, o.conns));
  config.workload = {.workload = workload,
                     .size = o.size,
                     .fib_n = o.n,
                     .send = tools::decode_escapes(o.send),
                     .expect = tools::decode_escapes(o.expect),
                     .expect_bytes = o.expect_bytes,
                     .udp = o.udp,
                     .url = http ? tools::parse_http_url(target) : tools::HttpUrl{},
                     .method = o.method};
  config.exchange = tools::make_exchange(config.workload);
  config.target = resolve_target(target, o.udp, workload);
  config.conns = o.conns;
  config.threads = std::min(o.threads, o.conns);
  config.pipeline = config.exchange.connection_per_request ? 1 : o.pipeline;
  config.rate = o.rate;
  config.duration = millis(o.duration);
  config.warmup = millis(o.warmup);
  config.timeout = millis(o.timeout);
  if (o.server_pid > 0) config.server_pid = o.server_pid;

  if (o.start_at > 0) wait_for_start(o.start_at);
  const auto result = tools::run_bench(config).value();
  const auto report = tools::report_of(config, result, target, tools::load_host(config.target, o.load_host));
  if (o.json)
    fmt::print("{}\n", tools::to_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else
    fmt::print("{}", tools::format_table(report));
  std::fflush(stdout);
  return verdict(result);
}

}  // namespace

Command add_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench", "Load-test a request/response server: throughput, errors, latency percentiles");
  cmd->add_option("workload", o->workload, "echo | fib | time | daytime | connect | stream | raw | http")
      ->check(CLI::IsMember({"echo", "fib", "time", "daytime", "connect", "stream", "raw", "http"}));
  cmd->add_option("target", o->target,
                  "HOST:PORT, [V6]:PORT or unix:/path; for http a URL, http://HOST[:PORT][/PATH] (port 80 by "
                  "default, [V6] in brackets) (default: 127.0.0.1 and the service's default port)")
      ->check(target_check());
  constexpr std::size_t kGiB = std::size_t{1} << 30;
  cmd->add_option("--size", o->size, "echo/connect/stream message bytes (default 64; stream 1 MiB)")
      ->transform(checks::whole<std::size_t>(1, kGiB));
  cmd->add_option("--n", o->n, "fib: the argument n (default 27)")->transform(checks::whole(0u, 10000u));
  cmd->add_option("--send", o->send, "raw: the request, with escapes \\r \\n \\t \\0 \\\\ \\xHH");
  cmd->add_option("--expect", o->expect, "raw: the exact reply (escapes as --send)");
  cmd->add_option("--expect-bytes", o->expect_bytes, "raw: the reply's length, when its content may vary")
      ->transform(checks::whole<std::size_t>(1, kGiB));
  cmd->add_option("-c,--conns", o->conns, "connections (default 10)")->transform(checks::whole(1u, 100000u));
  cmd->add_option("-t,--threads", o->threads, "load threads, one epoll loop each (default 1)")
      ->transform(checks::whole(1u, 256u));
  cmd->add_option("-d,--duration", o->duration, "measured seconds (default 5)")->transform(checks::between(0.01, 86400));
  cmd->add_option("--warmup", o->warmup, "seconds of load before measuring (default 1)")
      ->transform(checks::between(0, 3600));
  cmd->add_option("--pipeline", o->pipeline, "requests in flight per connection (default 1)")
      ->transform(checks::whole(1u, 10000u));
  cmd->add_option("--rate", o->rate,
                  "open loop: requests/s over all connections on a fixed schedule; latency counts from "
                  "each request's intended send time (default: closed loop)")
      ->transform(checks::positive(1e9));
  cmd->add_option("--timeout", o->timeout, "seconds before a connect or a reply counts as timed out (default 5)")
      ->transform(checks::between(0.001, 3600));
  cmd->add_flag("--udp", o->udp, "UDP: one datagram per request (echo, time, daytime, raw)");
  cmd->add_option("--method", o->method, "http: GET (default) or HEAD")->check(CLI::IsMember({"GET", "HEAD"}));
  cmd->add_option("--server-pid", o->server_pid,
                  "also report this process's CPU time per request (utime+stime from /proc/PID/stat, with its children)")
      ->transform(checks::whole(1));
  cmd->add_option("--load-host", o->load_host,
                  "this load host's name in the report (default: the host name), for bench merge's per-run lines")
      ->check(CLI::Validator(
          [](const std::string& name) {
            return name.empty() || name.size() > 256 ? std::string("a name of 1 to 256 bytes") : std::string();
          },
          "NAME"));
  cmd->add_option("--start-at", o->start_at,
                  "begin (the warm-up first) at this wall-clock time, seconds since 1970 UTC (e.g. $(($(date +%s) + "
                  "10))), at most an hour ahead: load hosts started one after another measure the same window")
      ->transform(checks::positive(1e11));
  cmd->add_flag("--json", o->json, "print JSON, with the whole latency histogram (what bench merge reads)");
  auto merge = std::make_shared<Command>(add_bench_merge(*cmd));
  cmd->footer(
      "Exit status: 0 when requests succeeded and every reply was right; 1 when none succeeded, a reply\n"
      "was wrong, or the run itself failed; 2 for a usage error. The report is printed in every case.\n"
      "http: every well-framed response counts as a request (latency, req/s) and by its status code;\n"
      "any 4xx or 5xx also makes the exit status 1, naming the codes: a load test of an error page\n"
      "fails loudly. A malformed response (bad framing, a header section over 64 KiB, a chunk-size\n"
      "line over 512 bytes) is a wrong reply and closes its connection. A server that ends a\n"
      "connection after a response (Connection: close, HTTP/1.0) is reconnected to, not an error.\n\n"
      "Examples:\n"
      "  sockit bench echo 127.0.0.1:10007 --conns 100 --duration 10\n"
      "  sockit bench fib 127.0.0.1:9000 --n 27 --conns 10 --rate 500\n"
      "  sockit bench raw 127.0.0.1:6379 --send 'PING\\r\\n' --expect '+PONG\\r\\n' --pipeline 16\n"
      "  sockit bench echo --server-pid $(pidof sockit) --json\n"
      "  sockit bench http http://127.0.0.1:8080/index.html --conns 100 --duration 10\n"
      "  sockit bench http 'http://[::1]:8080/big.bin' --method HEAD --pipeline 8\n"
      "  sockit bench echo 10.0.0.1:10007 --start-at $START --json > a.json   # on each load host, one START, then:\n"
      "  sockit bench merge a.json b.json");
  return {cmd, [o, merge] {
            if (merge->parser->parsed()) return merge->run();
            try {
              return run(*o);
            } catch (const std::invalid_argument& e) {
              fmt::print(stderr, "sockit bench: {}\n", e.what());
              return 2;
            }
          }};
}

}  // namespace sockit::cli
