#include "tools/bench_driver.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/epoll.hpp"
#include "tools/bench_loop.hpp"

namespace sockit::tools {
namespace {

constexpr std::size_t kMaxBatch = 256 * 1024;

// `pipeline` copies of the request back to back, so that pipelined requests leave in one
// send() (as redis-benchmark -P does); one copy when that would be large.
std::string make_batch(const std::string& request, unsigned pipeline) {
  std::string batch = request;
  for (unsigned i = 1; i < pipeline && batch.size() + request.size() <= kMaxBatch; ++i) batch += request;
  return batch;
}

}  // namespace

net::Result<BenchResult> run_bench(const BenchConfig& config) {
  const unsigned conns = std::max(1u, config.conns);
  const unsigned threads = std::clamp(config.threads, 1u, conns);
  const std::string batch = make_batch(config.exchange.request, config.pipeline);

  std::optional<CpuTimes> server_before;
  if (config.server_pid) {
    auto sample = process_tree_cpu(*config.server_pid);
    if (!sample) return sample.error();
  }

  const auto start = BenchClock::now();
  const auto wall_start = std::chrono::system_clock::now();
  const BenchWindow window{start, start + config.warmup, start + config.warmup + config.duration};
  std::vector<std::unique_ptr<BenchLoop>> workers;
  for (unsigned t = 0; t < threads; ++t) {
    auto epoll = net::Epoll::create();
    if (!epoll) return epoll.error();
    std::vector<unsigned> ids;
    for (unsigned id = t; id < conns; id += threads) ids.push_back(id);
    workers.push_back(std::make_unique<BenchLoop>(config, batch, std::move(*epoll), window, std::move(ids)));
  }

  std::vector<std::thread> running;
  for (auto& worker : workers) running.emplace_back([&worker] { worker->run(); });

  std::this_thread::sleep_until(window.measure_from);
  const auto measured_from = BenchClock::now();
  const CpuTimes client_before = own_cpu();
  if (config.server_pid)
    if (auto sample = process_tree_cpu(*config.server_pid)) server_before = *sample;
  std::this_thread::sleep_until(window.end);
  const auto measured_to = BenchClock::now();
  const CpuTimes client_after = own_cpu();
  std::optional<CpuTimes> server_after;
  if (config.server_pid)
    if (auto sample = process_tree_cpu(*config.server_pid)) server_after = *sample;
  for (auto& thread : running) thread.join();

  BenchResult result;
  for (auto& worker : workers) {
    if (worker->failure()) return *worker->failure();
    result.counters.merge(worker->counters());
  }
  result.window = window.end - window.measure_from;
  result.window_start = wall_start + std::chrono::duration_cast<std::chrono::system_clock::duration>(config.warmup);
  result.cpu_window = measured_to - measured_from;
  result.client_cpu = client_after - client_before;
  if (server_before && server_after) result.server_cpu = *server_after - *server_before;
  return result;
}

}  // namespace sockit::tools
