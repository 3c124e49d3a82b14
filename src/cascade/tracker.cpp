// The course tracker (cascade-protocol.md §2) with its defects fixed: stale entries are deleted,
// every malformed request is answered with status 1 and a message.
#include "cascade/tracker.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "net/text.hpp"

namespace sockit::cascade {
namespace {

net::Error config_error(std::string_view name, std::string detail) {
  return net::Error("parse tracker config", net::Errc::protocol, std::string(name), std::move(detail));
}

std::span<const std::byte> text_bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

}  // namespace

net::Result<TrackerConfig> parse_tracker_config(std::string_view text, std::string_view name) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return config_error(name, "not a JSON object");
  TrackerConfig config;
  if (json.contains("port")) {
    const auto& port = json["port"];
    if (!port.is_number_unsigned() || port.get<std::uint64_t>() > 65535)
      return config_error(name, "\"port\" must be a number from 0 to 65535");
    config.port = port.get<std::uint16_t>();
  }
  if (json.contains("allowedhashes")) {
    if (!json["allowedhashes"].is_array()) return config_error(name, "\"allowedhashes\" must be a list of hex hashes");
    for (const auto& item : json["allowedhashes"]) {
      auto digest = item.is_string() ? digest_from_hex(item.get<std::string>()) : std::nullopt;
      if (!digest) return config_error(name, fmt::format("\"allowedhashes\": {} is not 64 hex digits", item.dump()));
      config.allowed.insert(*digest);
    }
  }
  if (json.contains("good-ips")) {
    if (!json["good-ips"].is_array()) return config_error(name, "\"good-ips\" must be a list of IPv4 addresses");
    for (const auto& item : json["good-ips"]) {
      auto ip = item.is_string() ? parse_ipv4(item.get<std::string>()) : std::nullopt;
      if (!ip) return config_error(name, fmt::format("\"good-ips\": {} is not an IPv4 address", item.dump()));
      config.good_ips.insert(*ip);
    }
  }
  if (json.contains("ban-private")) {
    if (!json["ban-private"].is_boolean()) return config_error(name, "\"ban-private\" must be true or false");
    config.ban_private = json["ban-private"].get<bool>();
  }
  return config;
}

RequestRate::RequestRate(double per_second) {
  if (per_second <= 0) return;
  serve::SourceRateLimiter::Config config;
  config.rate = per_second;
  config.burst = std::max(per_second, 1.0);
  limiter_.emplace(config);
}

bool RequestRate::allow(std::string_view peer) {
  if (!limiter_) return true;
  auto address = net::Address::parse(peer);
  if (!address) return true;
  std::lock_guard lock(mutex_);
  return limiter_->allow(serve::source_key(*address), serve::SourceRateLimiter::Clock::now());
}

namespace {

class TrackerSession : public serve::Session {
 public:
  TrackerSession(const TrackerService& service, serve::SessionContext context)
      : service_(service), context_(std::move(context)) {}

  // One request per connection: bytes past it are ignored.
  serve::Taken receive(std::span<const std::byte> in, serve::Output& out) override {
    if (answered_) return {in.size(), serve::Verdict::close};
    const auto room = kTrackerRequestSize - buffer_.size();
    buffer_.insert(buffer_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(std::min(room, in.size())));
    return {in.size(), step(false, out)};
  }

  serve::Verdict end_of_input(serve::Output& out) override {
    if (answered_) return serve::Verdict::close;
    step(true, out);
    return serve::Verdict::close;
  }

  bool mid_request() const noexcept override { return !answered_ && !buffer_.empty(); }
  void request_timed_out(std::string_view problem, serve::Output& out) override {
    if (!answered_) refuse(std::string(problem), out);
  }

  std::size_t requests() const noexcept override { return answered_ ? 1 : 0; }

  // Not CPU, but the same need: an answer that may wait on Redis runs on a worker thread.
  bool cpu_bound() const noexcept override { return service_.registry().waits(); }

 private:
  serve::Verdict step(bool complete, serve::Output& out) {
    auto parsed = parse_tracker_request(buffer_, complete);
    if (std::holds_alternative<NeedMore>(parsed)) return serve::Verdict::keep_going;
    if (auto* bad = std::get_if<BadRequest>(&parsed)) return refuse(bad->message, out);
    return answer(std::get<TrackerRequest>(parsed), out);
  }

  serve::Verdict refuse(const std::string& message, serve::Output& out) {
    complaints().push_back(fmt::format("tracker request refused: {}", message));  // the model adds the peer
    out.append(encode_tracker_response(1, text_bytes(message)));
    answered_ = true;
    return serve::Verdict::close;
  }

  serve::Verdict answer(const TrackerRequest& request, serve::Output& out) {
    const auto& config = service_.config();
    if (!service_.rate().allow(context_.peer))
      return refuse(fmt::format("too many requests from {}: at most {} a second (--max-rate)", peer_host(),
                                config.max_rate),
                    out);
    if (!config.allow_any && !config.allowed.contains(request.cascade_hash))
      return refuse(fmt::format("untracked cascade hash {}", to_hex(request.cascade_hash)), out);
    if (config.ban_private && is_private_ipv4(request.requester.ip))
      return refuse(fmt::format("private address {} refused (ban-private)", ipv4_text(request.requester.ip)), out);
    // Only what a peer can be reached at is stored and handed out: the others would send every
    // downloader to itself (0.0.0.0), to everyone (broadcast, multicast) or nowhere (port 0).
    if (request.command == TrackerCommand::subscribe)
      if (auto unusable = unusable_endpoint(request.requester))
        return refuse(fmt::format("cannot register {}: {}", request.requester.to_string(), *unusable), out);
    SwarmRegistry::Query query;
    query.hash = request.cascade_hash;
    query.requester = request.requester;
    query.subscribe = request.command == TrackerCommand::subscribe;
    query.now = context_.now();
    query.stale_after = config.stale_after;
    query.max_entries = config.max_entries;
    if (query.subscribe) {
      const auto source = source_ip();
      const bool own = source == request.requester.ip;
      if (config.trust == TrackerTrust::source && !own)
        return refuse(fmt::format("cannot register {} from {}: a peer registers only its own address",
                                  request.requester.to_string(), source ? ipv4_text(*source) : context_.peer),
                      out);
      // "good": on the good list and registered from that very address, not on someone's behalf.
      query.good = own && config.good_ips.contains(request.requester.ip);
    }
    const auto answer = service_.registry().answer(query);
    if (!answer) return refuse(answer.error().what(), out);
    if (answer->refusal != SwarmRegistry::Refusal::none)
      return refuse(refusal_text(answer->refusal, request.requester), out);
    out.append(encode_tracker_response(0, encode_peer_entries(answer->peers)));
    answered_ = true;
    return serve::Verdict::close;
  }

  std::string refusal_text(SwarmRegistry::Refusal refusal, Endpoint who) const {
    const auto& caps = service_.registry().caps();
    switch (refusal) {
      case SwarmRegistry::Refusal::too_many_swarms:
        return fmt::format("tracker full: {} already (--max-swarms)", net::counted(caps.swarms, "swarm"));
      case SwarmRegistry::Refusal::swarm_full:
        return fmt::format("swarm full: {} already (--max-peers)", net::counted(caps.peers, "peer"));
      case SwarmRegistry::Refusal::ip_full:
        return fmt::format("{} has {} in this swarm already (--max-peers-per-ip)", ipv4_text(who.ip),
                           net::counted(caps.peers_per_ip, "peer"));
      case SwarmRegistry::Refusal::none:
        break;
    }
    return {};
  }

  // The connection's source address without its port: "127.0.0.1", "::1".
  std::string_view peer_host() const {
    std::string_view peer = context_.peer;
    if (peer.starts_with('[')) {
      peer.remove_prefix(1);
      return peer.substr(0, peer.find(']'));
    }
    return peer.substr(0, peer.rfind(':'));
  }

  std::optional<std::uint32_t> source_ip() const { return parse_ipv4(peer_host()); }

  const TrackerService& service_;
  serve::SessionContext context_;
  std::vector<std::byte> buffer_;
  bool answered_ = false;
};

}  // namespace

TrackerService::TrackerService(TrackerConfig config, std::shared_ptr<SwarmRegistry> registry)
    : config_(std::move(config)),
      registry_(std::move(registry)),
      rate_(std::make_unique<RequestRate>(config_.max_rate)) {}

std::unique_ptr<serve::Session> TrackerService::new_session(const serve::SessionContext& context) const {
  return std::make_unique<TrackerSession>(*this, context);
}

}  // namespace sockit::cascade
