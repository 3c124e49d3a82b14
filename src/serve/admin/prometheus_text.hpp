#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace sockit::serve::admin {

/// A page in the Prometheus text exposition format, version 0.0.4 (what /metrics answers with
/// Content-Type kContentType): each family's # HELP and # TYPE lines, then its samples, all of
/// one family together. Label values and help texts are escaped as the format says (\\, \", \n).
///
///   PrometheusText page;
///   page.family("sockit_requests_total", "counter", "Requests answered.");
///   page.sample("sockit_requests_total", {{"service", "echo"}}, 42);
class PrometheusText {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  /// Starts a family: `type` is counter, gauge or histogram.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, std::uint64_t value);
  /// NaN and infinities as the format spells them (NaN, +Inf, -Inf).
  void sample(std::string_view name, Labels labels, double value);
  /// A histogram's samples (its family started as "histogram"): NAME_bucket for each upper bound
  /// (`bounds`, in seconds) and +Inf, cumulative, then NAME_sum and NAME_count. `counts` has one
  /// more element than `bounds`: the requests above the last bound.
  void histogram(std::string_view name, Labels labels, std::span<const double> bounds,
                 std::span<const std::uint64_t> counts, double sum);

  const std::string& text() const noexcept { return text_; }

 private:
  void labels(Labels labels, std::string_view le = {});

  std::string text_;
};

}  // namespace sockit::serve::admin
