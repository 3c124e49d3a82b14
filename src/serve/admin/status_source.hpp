#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "serve/admin/prometheus_text.hpp"
#include "serve/admin/rate_meter.hpp"

namespace sockit::serve::admin {

/// status.json's objects keep their fields in the order given: the page draws them so.
using Json = nlohmann::ordered_json;

/// What an admin endpoint shows: `sockit serve`'s services, a tracker's swarms, a peer's files.
/// Called on the admin endpoint's thread, one call at a time; what it reads belongs to other
/// threads (or, with the fork model, other processes), so it reads only what may be read from
/// anywhere: atomics, shared counters, state behind its owner's lock.
class StatusSource {
 public:
  virtual ~StatusSource() = default;
  /// The page's title: "sockit serve".
  virtual std::string title() const = 0;
  /// Appends its metric families (the endpoint adds process_* itself).
  virtual void metrics(PrometheusText& page) const = 0;
  /// Its fields of /status.json (the endpoint adds "title", "uptime_seconds" and "process").
  /// `rates` turns counters into per-second rates. How the page shows them: a field holding an
  /// object of plain values is a box of figures, one holding an array of objects a table (see
  /// status_page.html).
  virtual Json status(RateMeter& rates) const = 0;
};

}  // namespace sockit::serve::admin
