#pragma once

#include <mutex>

#include "cascade/downloader.hpp"
#include "cascade/peer.hpp"
#include "serve/admin/status_source.hpp"
#include "serve/metrics.hpp"

namespace sockit::cascade {

/// The downloader's latest progress (PeerCallbacks::progress), handed from its thread to the
/// admin endpoint's. Thread-safe.
class ProgressBoard {
 public:
  void post(const Progress& progress) {
    std::lock_guard lock(mutex_);
    latest_ = progress;
  }
  Progress latest() const {
    std::lock_guard lock(mutex_);
    return latest_;
  }

 private:
  mutable std::mutex mutex_;
  Progress latest_;
};

/// What `sockit cascade peer --admin` shows: per file its blocks held, bytes a second down (its
/// held blocks growing) and up (its blocks answered by the block server), and the time left at
/// that pace; the downloader's connections and rate; the block server's counters. `peer`,
/// `metrics` (the block server's) and `progress` must outlive it.
class PeerStatus : public serve::admin::StatusSource {
 public:
  PeerStatus(const Peer& peer, const serve::Metrics& metrics, const ProgressBoard& progress)
      : peer_(peer), metrics_(metrics), progress_(progress) {}

  std::string title() const override { return "sockit cascade peer"; }
  void metrics(serve::admin::PrometheusText& page) const override;
  serve::admin::Json status(serve::admin::RateMeter& rates) const override;

 private:
  const Peer& peer_;
  const serve::Metrics& metrics_;
  const ProgressBoard& progress_;
};

}  // namespace sockit::cascade
