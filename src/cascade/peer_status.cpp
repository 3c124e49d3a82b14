#include "cascade/peer_status.hpp"

#include <algorithm>
#include <string>

#include "serve/admin/service_metrics.hpp"

namespace sockit::cascade {
namespace {

using serve::admin::Json;

std::uint64_t held_bytes(const SharedFile& file) {
  const auto& d = file.description();
  return std::min<std::uint64_t>(d.target_size, file.held() * d.block_size);
}

}  // namespace

void PeerStatus::metrics(serve::admin::PrometheusText& page) const {
  serve::admin::write_service_metrics(metrics_, page);
  const auto& files = peer_.files();
  page.family("sockit_peer_blocks", "gauge", "Blocks of each file.");
  for (const auto& f : files) page.sample("sockit_peer_blocks", {{"file", f->path()}}, f->description().block_count());
  page.family("sockit_peer_blocks_held", "gauge", "Verified blocks held of each file.");
  for (const auto& f : files) page.sample("sockit_peer_blocks_held", {{"file", f->path()}}, f->held());
  page.family("sockit_peer_held_bytes", "gauge", "Bytes of each file held (verified blocks).");
  for (const auto& f : files) page.sample("sockit_peer_held_bytes", {{"file", f->path()}}, held_bytes(*f));
  page.family("sockit_peer_served_bytes_total", "counter", "Bytes of each file's blocks the block server answered with.");
  for (const auto& f : files) page.sample("sockit_peer_served_bytes_total", {{"file", f->path()}}, f->served());
  page.family("sockit_peer_connections", "gauge", "Connections of the downloader to other peers.");
  page.sample("sockit_peer_connections", {}, std::uint64_t{progress_.latest().peers});
}

Json PeerStatus::status(serve::admin::RateMeter& rates) const {
  const auto now = serve::admin::RateMeter::Clock::now();
  const auto progress = progress_.latest();
  Json files = Json::array();
  for (std::size_t i = 0; i < peer_.files().size(); ++i) {
    const auto& file = *peer_.files()[i];
    const auto& d = file.description();
    const auto held = held_bytes(file);
    const auto key = std::to_string(i);
    const double down = rates.rate(key + "/held", static_cast<double>(held), now);
    const double up = rates.rate(key + "/served", static_cast<double>(file.served()), now);
    const auto left = d.target_size - held;
    Json eta = left == 0 ? Json(0) : down > 0 ? Json(static_cast<double>(left) / down) : Json(nullptr);
    files.push_back({{"file", file.path()},
                     {"blocks_held", file.held()},
                     {"blocks", d.block_count()},
                     {"held_bytes", held},
                     {"size_bytes", d.target_size},
                     {"download_bytes_per_second", down},
                     {"upload_bytes_per_second", up},
                     {"eta_seconds", eta},
                     {"complete", file.complete()}});
  }
  Json rows = Json::array();
  std::uint64_t sent = 0;
  for (const auto& service : metrics_.services()) {
    const auto totals = service.counters->totals();
    sent += totals.sent;
    rows.push_back(serve::admin::service_row(service.name, totals, rates));
  }
  return {{"listening", peer_.address().to_string()},
          {"peers", progress.peers},
          {"download_bytes_per_second", progress.bytes_per_second},
          {"upload_bytes_per_second", rates.rate("all/sent", static_cast<double>(sent), now)},
          {"files", std::move(files)},
          {"services", std::move(rows)},
          {"busiest_sources", serve::admin::busiest_sources(metrics_, 10)}};
}

}  // namespace sockit::cascade
