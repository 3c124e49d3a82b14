// The course tracker (cascade-protocol.md §2) with its defects fixed: stale entries are deleted,
// every malformed request is answered with status 1 and a message.
#include "cascade/tracker.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>

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

TrackerRegistry::TrackerRegistry(std::uint64_t seed) : random_(seed) {}

void TrackerRegistry::subscribe(const Digest& hash, Endpoint who, bool good, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  peers_[hash][who] = Seen{now, good};
}

std::vector<PeerEntry> TrackerRegistry::list(const Digest& hash, Endpoint requester, Clock::time_point now,
                                             std::chrono::seconds stale_after, std::size_t max) {
  std::lock_guard lock(mutex_);
  auto found = peers_.find(hash);
  if (found == peers_.end()) return {};
  std::vector<PeerEntry> good, other;
  auto& entries = found->second;
  for (auto it = entries.begin(); it != entries.end();) {
    if (now - it->second.when > stale_after) {
      it = entries.erase(it);  // the course tracker only hid these; they grew forever
      continue;
    }
    if (it->first != requester) {
      const auto seen = std::chrono::duration_cast<std::chrono::seconds>(it->second.when.time_since_epoch()).count();
      PeerEntry entry{it->first, static_cast<std::uint32_t>(seen), it->second.good};
      (entry.good ? good : other).push_back(entry);
    }
    ++it;
  }
  if (entries.empty()) peers_.erase(found);
  std::shuffle(good.begin(), good.end(), random_);
  std::shuffle(other.begin(), other.end(), random_);
  good.insert(good.end(), other.begin(), other.end());
  if (good.size() > max) good.resize(max);
  return good;
}

std::size_t TrackerRegistry::size(const Digest& hash) const {
  std::lock_guard lock(mutex_);
  auto found = peers_.find(hash);
  return found == peers_.end() ? 0 : found->second.size();
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

  std::size_t requests() const noexcept override { return answered_ ? 1 : 0; }

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
    if (!config.allow_any && !config.allowed.contains(request.cascade_hash))
      return refuse(fmt::format("untracked cascade hash {}", to_hex(request.cascade_hash)), out);
    if (config.ban_private && is_private_ipv4(request.requester.ip))
      return refuse(fmt::format("private address {} refused (ban-private)", ipv4_text(request.requester.ip)), out);
    // Only what a peer can be reached at is stored and handed out: the others would send every
    // downloader to itself (0.0.0.0), to everyone (broadcast, multicast) or nowhere (port 0).
    if (request.command == TrackerCommand::subscribe)
      if (auto unusable = unusable_endpoint(request.requester))
        return refuse(fmt::format("cannot register {}: {}", request.requester.to_string(), *unusable), out);
    const auto now = context_.now();
    if (request.command == TrackerCommand::subscribe) {
      // "good": on the good list and registered from that very address, not on someone's behalf.
      const auto source = source_ip();
      const bool good = config.good_ips.contains(request.requester.ip) && source == request.requester.ip;
      service_.registry().subscribe(request.cascade_hash, request.requester, good, now);
    }
    auto entries = service_.registry().list(request.cascade_hash, request.requester, now, config.stale_after,
                                            config.max_entries);
    out.append(encode_tracker_response(0, encode_peer_entries(entries)));
    answered_ = true;
    return serve::Verdict::close;
  }

  std::optional<std::uint32_t> source_ip() const {
    std::string_view peer = context_.peer;
    if (peer.starts_with('[')) {
      peer.remove_prefix(1);
      peer = peer.substr(0, peer.find(']'));
    } else {
      peer = peer.substr(0, peer.rfind(':'));
    }
    return parse_ipv4(peer);
  }

  const TrackerService& service_;
  serve::SessionContext context_;
  std::vector<std::byte> buffer_;
  bool answered_ = false;
};

}  // namespace

TrackerService::TrackerService(TrackerConfig config, std::shared_ptr<TrackerRegistry> registry)
    : config_(std::move(config)), registry_(std::move(registry)) {}

std::unique_ptr<serve::Session> TrackerService::new_session(const serve::SessionContext& context) const {
  return std::make_unique<TrackerSession>(*this, context);
}

}  // namespace sockit::cascade
