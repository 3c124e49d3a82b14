#include "serve/admin/serve_status.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "serve/admin/service_metrics.hpp"

namespace sockit::serve::admin {
namespace {

constexpr std::size_t kSourcesShown = 10;

double seconds(std::chrono::milliseconds ms) { return static_cast<double>(ms.count()) / 1000; }

// The TCP models serving now, each once, in the order of the services.
std::vector<std::string> models(const std::vector<ServiceConfig>& services) {
  std::vector<std::string> all;
  for (const auto& s : services)
    if (!s.model.empty() && std::find(all.begin(), all.end(), s.model) == all.end()) all.push_back(s.model);
  return all;
}

// The TCP services served now with their counters (zeros before the first connection), in the
// order they listen: a service a reload added shows at once, one it removed no more. Its
// counters stay in Metrics, so a reload that adds it back counts on from them.
std::vector<CountedService> served(const std::vector<Listening>& listening, const Metrics& metrics) {
  const auto counted = metrics.services();
  std::vector<CountedService> all;
  for (const auto& l : listening) {
    if (l.transport != Transport::tcp ||
        std::any_of(all.begin(), all.end(), [&](const CountedService& s) { return s.name == l.service; }))
      continue;
    const auto found = std::find_if(counted.begin(), counted.end(), [&](const auto& c) { return c.name == l.service; });
    all.push_back({l.service, found != counted.end() ? found->counters->totals() : ServiceTotals{}});
  }
  return all;
}

// A service's limits as the page shows them: only those that limit something.
Json limits_shown(const ServiceConfig& service) {
  Json limits = Json::object();
  const auto& rules = service.admission;
  if (rules.max_conns != kNoLimit) limits["max_conns"] = rules.max_conns;
  if (rules.per_source > 0) limits["per_source"] = rules.per_source;
  if (rules.rate > 0) {
    limits["rate_per_second"] = rules.rate;
    limits["rate_cooldown_seconds"] = seconds(rules.rate_cooldown);
  }
  const auto networks = [](const std::vector<Cidr>& list) {
    Json all = Json::array();
    for (const auto& cidr : list) all.push_back(cidr.to_string());
    return all;
  };
  if (!rules.access.allow.empty()) limits["allow"] = networks(rules.access.allow);
  if (!rules.access.deny.empty()) limits["deny"] = networks(rules.access.deny);
  if (service.limits.idle_timeout.count() > 0) limits["idle_timeout_seconds"] = seconds(service.limits.idle_timeout);
  limits["max_line_bytes"] = service.limits.max_line;
  return limits;
}

}  // namespace

void ServeStatus::metrics(PrometheusText& page) const {
  page.family("sockit_info", "gauge", "A TCP model serving (label model), one sample per model; always 1.");
  for (const auto& model : models(server_.services())) page.sample("sockit_info", {{"model", model}}, std::uint64_t{1});
  write_service_metrics(served(server_.listening(), metrics_), page);
  page.family("sockit_udp_refused_total", "counter",
              "UDP datagrams left unanswered by the reflection guard, by reason (docs/hardening.md).");
  for (std::size_t r = 0; r < kRefusalKinds; ++r) {
    const auto reason = static_cast<Refusal>(r);
    page.sample("sockit_udp_refused_total", {{"reason", refusal_name(reason)}}, server_.udp_refused(reason));
  }
}

Json ServeStatus::status(RateMeter& rates) const {
  // One snapshot of each: a reload between the two calls at worst shows a service without its
  // settings for one update.
  const auto listening = server_.listening();
  const auto services = server_.services();
  // One row per service, in the order they listen; its model, addresses and limits, then its
  // TCP counters.
  std::vector<std::string> names;
  std::map<std::string, std::string, std::less<>> addresses;
  for (const auto& l : listening) {
    if (!addresses.contains(l.service)) names.push_back(l.service);
    auto& text = addresses[l.service];
    if (!text.empty()) text += ' ';
    text += fmt::format("{}/{}", l.address.to_string(), l.transport == Transport::tcp ? "tcp" : "udp");
  }
  const auto counted = served(listening, metrics_);
  Json rows = Json::array();
  for (const auto& name : names) {
    Json row{{"service", name}};
    // A TCP service's model and limits (what its connections are held to; a UDP one has neither).
    const auto config = std::find_if(services.begin(), services.end(), [&](const auto& s) { return s.name == name; });
    const bool tcp = config != services.end() && !config->model.empty();
    if (tcp) row["model"] = config->model;
    row["addresses"] = addresses[name];
    if (tcp) row["limits"] = limits_shown(*config);
    for (const auto& service : counted) {
      if (service.name != name) continue;
      auto counters = service_row(name, service.totals, rates);
      counters.erase("service");
      row.update(counters);
    }
    rows.push_back(std::move(row));
  }
  // The summary is the whole process's: a service a reload removed counts in it while its
  // connections finish, and its past in the totals.
  const auto everything = counted_services(metrics_);
  std::uint64_t open = 0, total = 0, requests = 0;
  for (const auto& service : everything) {
    open += service.totals.open();
    total += service.totals.connections;
    requests += service.totals.requests;
  }
  Json udp = Json::object();
  for (std::size_t r = 0; r < kRefusalKinds; ++r)
    udp[std::string(refusal_name(static_cast<Refusal>(r)))] = server_.udp_refused(static_cast<Refusal>(r));
  const auto now = RateMeter::Clock::now();
  return {{"model", fmt::format("{}", fmt::join(models(services), " "))},
          {"connections_open", open},
          {"connections_total", total},
          {"requests_total", requests},
          {"requests_per_second", rates.rate("all/requests", static_cast<double>(requests), now)},
          {"services", std::move(rows)},
          {"refused_connections", refusals(everything)},
          {"refused_datagrams", std::move(udp)},
          {"busiest_sources", busiest_sources(metrics_, kSourcesShown)}};
}

}  // namespace sockit::serve::admin
