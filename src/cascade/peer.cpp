#include "cascade/peer.hpp"

#include <fmt/core.h>
#include <poll.h>
#include <sys/stat.h>

#include <algorithm>

#include "cascade/cascade_file.hpp"
#include "cascade/tracker_client.hpp"
#include "cascade/tracker_exchange.hpp"
#include "net/deadline.hpp"
#include "net/socket.hpp"

namespace sockit::cascade {
namespace {

// A block server's clients are leechers that pipeline requests for up to 8 MiB in flight.
serve::Limits block_server_limits() {
  serve::Limits limits;
  limits.idle_timeout = std::chrono::minutes(2);
  limits.request_timeout = std::chrono::seconds(10);  // a block request is 64 bytes
  limits.high_water = 8 << 20;
  limits.grace_period = std::chrono::seconds(1);
  return limits;
}

}  // namespace

Peer::Peer(const PeerConfig& config, PeerCallbacks callbacks)
    : options_(config.download), callbacks_(std::move(callbacks)), blocks_(library_) {
  check_peer_files(config.files).value();
  if (config.listen.family() != AF_INET)
    throw net::Error("listen", net::Errc::bad_address, config.listen.to_string(),
                     "the block server needs an IPv4 address (the tracker stores IPv4)");
  // Bound before the hashing, which may take minutes, so that a port in use fails at once.
  auto listener = net::listen_on(config.listen).value();
  address_ = listener.local_address().value();
  options_.self = Endpoint{parse_ipv4(address_.host()).value_or(0), address_.port()};
  std::vector<FileId> opened;
  for (const auto& f : config.files) {
    auto file = open_shared_file(load_cascade(f.cascade_path).value(), f.data_path).value();
    // check_peer_files compared the names; this compares what was opened, which also catches a
    // dangling symlink to another data path that the first open created.
    struct stat info {};
    if (::fstat(file->fd(), &info) < 0) throw net::errno_error("fstat", f.data_path);
    if (std::find(opened.begin(), opened.end(), file_id(info)) != opened.end())
      throw net::Error("open data file", net::Errc::file_in_use, f.data_path, "it is also another file's data file");
    opened.push_back(file_id(info));
    files_.push_back(std::move(file));
    library_->add(files_.back());
  }
  server_ = std::make_unique<BackgroundServer>(std::move(listener), blocks_, block_server_limits(),
                                               serve::ModelOptions{.log = config.log, .metrics = config.metrics});
}

Peer::~Peer() = default;

net::Result<std::vector<FileReport>> Peer::download(serve::StopSignal& stop) {
  Downloader downloader(
      options_, [this](const std::string& line) { event(line); },
      [this](const Progress& p) {
        if (callbacks_.progress) callbacks_.progress(p);
      });
  return downloader.run(files_, stop);
}

void Peer::seed(serve::StopSignal& stop) {
  while (!stop.requested()) {
    bool failed = false;
    for (const auto& file : files_) {
      if (stop.requested()) return;
      auto answer = ask_tracker(options_.tracker, TrackerCommand::subscribe, file->description().cascade_hash,
                                options_.self, options_.tracker_timeout);
      if (!answer) event(tracker_failure(options_.tracker, answer.error()));
      failed = failed || !answer;
    }
    // A tracker that failed may be restarting with an empty list: try again sooner. Times out
    // unless stop fires: both mean the wait is over.
    const auto wait = failed ? std::min(options_.list_interval, options_.resubscribe_interval) : options_.resubscribe_interval;
    [[maybe_unused]] auto fired = net::wait_ready(stop.fd(), POLLIN, net::Deadline::after(wait));
  }
}

void Peer::event(const std::string& line) const {
  if (callbacks_.event) callbacks_.event(line);
}

}  // namespace sockit::cascade
