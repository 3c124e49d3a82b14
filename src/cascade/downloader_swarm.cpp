#include "cascade/downloader_swarm.hpp"

#include <algorithm>

#include "cascade/hashing.hpp"

namespace sockit::cascade {
namespace {

constexpr std::chrono::milliseconds kFirstListGap{250};  // doubling up to list_interval after a subscribe

std::vector<bool> held_blocks(const SharedFile& file) {
  std::vector<bool> held(file.description().block_count());
  for (std::uint64_t i = 0; i < held.size(); ++i) held[i] = file.has(i);
  return held;
}

}  // namespace

Swarm::Swarm(std::shared_ptr<SharedFile> file, Endpoint self, std::size_t depth)
    : file_(std::move(file)), picker_(held_blocks(*file_), self), depth_(depth) {
  report_.path = file_->path();
  report_.blocks = file_->description().block_count();
  report_.resumed = file_->held();
}

std::optional<TrackerCommand> Swarm::tracker_due(Clock::time_point now, const DownloadOptions& options) {
  std::optional<TrackerCommand> due;
  if (now >= next_subscribe_) due = TrackerCommand::subscribe;
  else if (now >= next_list_) due = TrackerCommand::list;
  if (!due) return std::nullopt;
  // Peers that subscribed just after us are listed soon: each stripe depends on who is there.
  if (*due == TrackerCommand::subscribe) list_gap_ = kFirstListGap;
  next_list_ = now + std::min<std::chrono::milliseconds>(list_gap_, options.list_interval);
  list_gap_ *= 2;
  if (*due == TrackerCommand::subscribe) next_subscribe_ = now + options.resubscribe_interval;
  return due;
}

std::size_t Swarm::add_peers(const std::vector<PeerEntry>& entries, const Endpoint& self) {
  std::size_t fresh = 0;
  for (const auto& entry : entries) {
    // A tracker may hand out anything: 0.0.0.0 would connect to this very host, broadcast and
    // multicast nowhere useful, port 0 nowhere at all.
    if (entry.endpoint == self || unusable_endpoint(entry.endpoint)) continue;
    fresh += peers_.try_emplace(entry.endpoint).second ? 1 : 0;
  }
  return fresh;
}

std::vector<Endpoint> Swarm::peers_to_connect(Clock::time_point now, std::size_t max_connections) const {
  std::vector<Endpoint> chosen;
  for (const auto& [endpoint, state] : peers_) {
    if (connections_ + chosen.size() >= max_connections) break;
    if (state.connected || state.retry_at > now || picker_.banned(endpoint)) continue;
    chosen.push_back(endpoint);
  }
  return chosen;
}

void Swarm::back_off(PeerState& state, Clock::time_point now) {
  state.failures++;
  state.retry_at = now + std::min<std::chrono::milliseconds>(std::chrono::milliseconds(30000),
                                                             std::chrono::milliseconds(250L << std::min(state.failures, 7)));
}

void Swarm::opened(const Endpoint& peer, Clock::time_point now) {
  picker_.opened(peer, now);
  peers_[peer].connected = true;
  connections_++;
}

void Swarm::connect_failed(const Endpoint& peer, Clock::time_point now) { back_off(peers_[peer], now); }

void Swarm::connected(const Endpoint& peer) { peers_[peer].failures = 0; }

void Swarm::closed(const Endpoint& peer, bool ban, bool quiet, Clock::time_point now) {
  auto& state = peers_[peer];
  if (ban) {
    picker_.ban(peer, now);
    report_.dropped.push_back(peer);
  } else {
    picker_.lost(peer, now);
    if (!quiet) back_off(state, now);
  }
  if (state.connected) {
    state.connected = false;
    connections_--;
  }
}

net::Result<Swarm::Arrival> Swarm::arrived(const Endpoint& peer, std::uint64_t index, std::span<const std::byte> body,
                                           Clock::time_point now) {
  if (sha256(body) != file_->description().block_hashes[index]) {
    report_.bad_blocks++;
    return Arrival::bad;
  }
  if (picker_.held(index)) {
    picker_.delivered(peer, index, now);
    report_.duplicates++;
    return Arrival::duplicate;
  }
  if (auto written = file_->write_block(index, body); !written) return written.error();
  picker_.delivered(peer, index, now);
  report_.fetched++;
  report_.blocks_from[peer]++;
  return Arrival::fresh;
}

net::Result<void> Swarm::finish() {
  done_ = true;
  const auto& d = file_->description();
  auto target = hash_file_prefix(file_->fd(), file_->path(), d.target_size);
  if (!target) return target.error();
  if (*target != d.target_hash)
    return net::Error("check target hash", net::Errc::protocol, file_->path(),
                      "every block matches but the whole file does not: the cascade file is inconsistent");
  report_.complete = true;
  report_.target_verified = true;
  return {};
}

}  // namespace sockit::cascade
