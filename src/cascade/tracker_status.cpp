#include "cascade/tracker_status.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "cascade/sha256.hpp"
#include "serve/admin/service_metrics.hpp"

namespace sockit::cascade {
namespace {

constexpr std::size_t kSwarmsShown = 50;
constexpr std::size_t kSourcesShown = 10;

struct Swarm {
  std::string hash;
  std::size_t peers;
};

// The tracked hashes' swarms, most peers first (a hash nobody registered for has 0). A registry
// that cannot be read (Redis down) leaves out what it could not say.
std::vector<Swarm> tracked_swarms(const TrackerService& service) {
  std::vector<Swarm> swarms;
  for (const auto& hash : service.config().allowed)
    if (const auto peers = service.registry().entries(hash)) swarms.push_back({to_hex(hash), *peers});
  std::stable_sort(swarms.begin(), swarms.end(), [](const Swarm& a, const Swarm& b) { return a.peers > b.peers; });
  return swarms;
}

}  // namespace

void TrackerStatus::metrics(serve::admin::PrometheusText& page) const {
  serve::admin::write_service_metrics(metrics_, page);
  page.family("sockit_tracker_swarms", "gauge", "Swarms held (cascade hashes with registered peers).");
  if (const auto swarms = service_.registry().swarm_count())
    page.sample("sockit_tracker_swarms", {}, std::uint64_t{*swarms});
  page.family("sockit_tracker_peers", "gauge", "Peers registered for each tracked hash (stale ones until swept).");
  for (const auto& swarm : tracked_swarms(service_))
    page.sample("sockit_tracker_peers", {{"hash", swarm.hash}}, std::uint64_t{swarm.peers});
}

serve::admin::Json TrackerStatus::status(serve::admin::RateMeter& rates) const {
  const auto now = serve::admin::RateMeter::Clock::now();
  serve::admin::Json rows = serve::admin::Json::array();
  for (const auto& service : metrics_.services())
    rows.push_back(serve::admin::service_row(service.name, service.counters->totals(), rates));
  const auto swarms = tracked_swarms(service_);
  std::size_t peers = 0;
  serve::admin::Json table = serve::admin::Json::array();
  for (const auto& swarm : swarms) {
    peers += swarm.peers;
    if (table.size() < kSwarmsShown) table.push_back({{"hash", swarm.hash}, {"peers", swarm.peers}});
  }
  std::uint64_t requests = 0;
  for (const auto& service : metrics_.services()) requests += service.counters->totals().requests;
  const auto held = service_.registry().swarm_count();
  return {{"swarms_held", held ? serve::admin::Json(*held) : serve::admin::Json(nullptr)},
          {"hashes_tracked", service_.config().allow_any ? serve::admin::Json("any") : serve::admin::Json(swarms.size())},
          {"peers_of_tracked_hashes", peers},
          {"requests_per_second", rates.rate("all/requests", static_cast<double>(requests), now)},
          {"services", std::move(rows)},
          {"swarms", std::move(table)},
          {"refused_connections", serve::admin::refusals(metrics_)},
          {"busiest_sources", serve::admin::busiest_sources(metrics_, kSourcesShown)}};
}

}  // namespace sockit::cascade
