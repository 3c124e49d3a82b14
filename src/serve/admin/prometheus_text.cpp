#include "serve/admin/prometheus_text.hpp"

#include <fmt/format.h>

#include <cmath>

namespace sockit::serve::admin {
namespace {

// HELP text escapes backslash and newline; a label value also the double quote.
void escaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quote) out += "\\\"";
    else out += c;
  }
}

std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(text_), "# HELP {} ", name);
  escaped(text_, help, false);
  fmt::format_to(std::back_inserter(text_), "\n# TYPE {} {}\n", name, type);
}

void PrometheusText::labels(Labels labels, std::string_view le) {
  if (labels.size() == 0 && le.empty()) return;
  text_ += '{';
  bool first = true;
  auto one = [&](std::string_view name, std::string_view value) {
    if (!first) text_ += ',';
    first = false;
    text_ += name;
    text_ += "=\"";
    escaped(text_, value, true);
    text_ += '"';
  };
  for (const auto& [name, value] : labels) one(name, value);
  if (!le.empty()) one("le", le);
  text_ += '}';
}

void PrometheusText::sample(std::string_view name, Labels labels, std::uint64_t value) {
  text_ += name;
  this->labels(labels);
  fmt::format_to(std::back_inserter(text_), " {}\n", value);
}

void PrometheusText::sample(std::string_view name, Labels labels, double value) {
  text_ += name;
  this->labels(labels);
  fmt::format_to(std::back_inserter(text_), " {}\n", number(value));
}

void PrometheusText::histogram(std::string_view name, Labels labels, std::span<const double> bounds,
                               std::span<const std::uint64_t> counts, double sum) {
  std::uint64_t cumulative = 0;
  const std::string bucket = fmt::format("{}_bucket", name);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    text_ += bucket;
    this->labels(labels, i < bounds.size() ? number(bounds[i]) : std::string("+Inf"));
    fmt::format_to(std::back_inserter(text_), " {}\n", cumulative);
  }
  sample(fmt::format("{}_sum", name), labels, sum);
  sample(fmt::format("{}_count", name), labels, cumulative);
}

}  // namespace sockit::serve::admin
