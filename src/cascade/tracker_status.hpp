#pragma once

#include "cascade/tracker.hpp"
#include "serve/admin/status_source.hpp"
#include "serve/metrics.hpp"

namespace sockit::cascade {

/// What `sockit cascade tracker --admin` shows: the swarms it holds and the peers of each hash it
/// tracks by name (--allow, --allow-dir; with --allow-any only how many swarms), and its
/// connections, requests and refusals as `sockit serve` counts them. With --redis each look-up is
/// a round trip to Redis (bounded by its timeout; what fails is left out). `service` and `metrics`
/// (the one its model counts in) must outlive it.
class TrackerStatus : public serve::admin::StatusSource {
 public:
  TrackerStatus(const TrackerService& service, const serve::Metrics& metrics) : service_(service), metrics_(metrics) {}

  std::string title() const override { return "sockit cascade tracker"; }
  void metrics(serve::admin::PrometheusText& page) const override;
  serve::admin::Json status(serve::admin::RateMeter& rates) const override;

 private:
  const TrackerService& service_;
  const serve::Metrics& metrics_;
};

}  // namespace sockit::cascade
