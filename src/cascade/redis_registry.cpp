#include "cascade/redis_registry.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "cascade/redis_tracker_script.hpp"

namespace sockit::cascade {
namespace {

constexpr std::size_t kMaxPrefix = 64;

long long unix_ms(SwarmRegistry::Clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

template <typename Number>
std::optional<Number> number(std::string_view text) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "1.2.3.4:5" as the script stores it.
std::optional<Endpoint> endpoint_of(std::string_view member) {
  const auto colon = member.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto ip = parse_ipv4(member.substr(0, colon));
  const auto port = number<std::uint16_t>(member.substr(colon + 1));
  if (!ip || !port) return std::nullopt;
  return Endpoint{*ip, *port};
}

std::optional<SwarmRegistry::Refusal> refusal_of(std::string_view reason) {
  if (reason == "swarms") return SwarmRegistry::Refusal::too_many_swarms;
  if (reason == "peers") return SwarmRegistry::Refusal::swarm_full;
  if (reason == "ip") return SwarmRegistry::Refusal::ip_full;
  return std::nullopt;
}

}  // namespace

bool valid_redis_prefix(std::string_view prefix) noexcept {
  return !prefix.empty() && prefix.size() <= kMaxPrefix && std::all_of(prefix.begin(), prefix.end(), [](char c) {
    return c > ' ' && c < 0x7f && c != '{' && c != '}';
  });
}

RedisRegistry::RedisRegistry(RedisSettings settings, std::string prefix, RegistryCaps caps, RedisPool::Notice notice,
                             std::uint64_t seed)
    : caps_(caps), tag_("{" + prefix + "}"), pool_(std::move(settings), std::move(notice)), random_(seed) {}

std::string RedisRegistry::key(std::string_view kind, const Digest& hash) const {
  return fmt::format("{}:{}:{}", tag_, kind, to_hex(hash));
}

net::Result<SwarmRegistry::Answer> RedisRegistry::answer(const Query& query) {
  const auto swarm = to_hex(query.hash);
  const auto index = tag_ + ":swarms";
  const auto peers = key("peers", query.hash);
  const auto good = key("good", query.hash);
  const auto ips = key("ips", query.hash);
  const auto who = query.requester.to_string();
  const auto ip = ipv4_text(query.requester.ip);
  const auto now = unix_ms(query.now);
  const auto stale_ms = std::chrono::duration_cast<std::chrono::milliseconds>(query.stale_after).count();
  const auto now_text = std::to_string(now);
  const auto cutoff = std::to_string(now - stale_ms);
  const auto ttl = std::to_string(std::max<long long>(stale_ms, 1));
  const auto max = std::to_string(query.max_entries);
  const auto max_swarms = std::to_string(caps_.swarms);
  const auto max_peers = std::to_string(caps_.peers);
  const auto max_per_ip = std::to_string(caps_.peers_per_ip);
  const std::string_view keys[] = {index, peers, good, ips};
  const std::string_view args[] = {query.subscribe ? "subscribe" : "list",
                                   swarm, who, ip, query.good ? "1" : "0", now_text, cutoff, ttl, max, max_swarms,
                                   max_peers, max_per_ip, tag_};
  auto reply = pool_.eval(tracker_script(), keys, args);
  if (!reply) return reply.error();
  const auto& answer = **reply;
  auto broken = [&](std::string why) {
    return net::Error("Redis", net::Errc::protocol, pool_.server(), "the tracker script's reply: " + std::move(why));
  };
  if (answer.is_error())  // LOADING after a restart, OOM, READONLY on a replica, a script error
    return net::Error("Redis", net::Errc::protocol, pool_.server(), "it answered: " + answer.text);
  const auto* head = answer.kind == RedisReply::Kind::array && !answer.elements.empty() && answer.elements[0]
                         ? answer.elements[0]->string()
                         : nullptr;
  if (head && *head == "refused" && answer.elements.size() == 2 && answer.elements[1] && answer.elements[1]->string()) {
    const auto refusal = refusal_of(*answer.elements[1]->string());
    if (!refusal) return broken("an unknown refusal " + *answer.elements[1]->string());
    return Answer{*refusal, {}};
  }
  if (!head || *head != "ok" || answer.elements.size() % 3 != 1) return broken("not {ok, member, score, good, ...}");
  std::vector<PeerEntry> chosen_good, chosen_other;
  for (std::size_t i = 1; i < answer.elements.size(); i += 3) {
    const auto* member = answer.elements[i] ? answer.elements[i]->string() : nullptr;
    const auto* score = answer.elements[i + 1] ? answer.elements[i + 1]->string() : nullptr;
    const auto* flag = answer.elements[i + 2] ? answer.elements[i + 2]->string() : nullptr;
    const auto endpoint = member ? endpoint_of(*member) : std::nullopt;
    const auto seen_ms = score ? number<long long>(*score) : std::nullopt;
    // Only what the script wrote can be handed out: anything else in these keys was put there
    // by someone else and is skipped.
    if (!endpoint || !seen_ms || !flag) continue;
    PeerEntry entry{*endpoint, static_cast<std::uint32_t>(*seen_ms / 1000), *flag == "1"};
    (entry.good ? chosen_good : chosen_other).push_back(entry);
  }
  {
    std::lock_guard lock(random_mutex_);
    std::shuffle(chosen_good.begin(), chosen_good.end(), random_);
    std::shuffle(chosen_other.begin(), chosen_other.end(), random_);
  }
  chosen_good.insert(chosen_good.end(), chosen_other.begin(), chosen_other.end());
  return Answer{Refusal::none, std::move(chosen_good)};
}

net::Result<std::size_t> RedisRegistry::cardinality(const std::string& key) {
  const std::string_view command[] = {"ZCARD", key};
  auto reply = pool_.call(command);
  if (!reply) return reply.error();
  if ((*reply)->kind != RedisReply::Kind::integer || (*reply)->integer < 0)
    return net::Error("Redis", net::Errc::protocol, pool_.server(), "ZCARD " + key + ": " + (*reply)->text);
  return static_cast<std::size_t>((*reply)->integer);
}

net::Result<std::size_t> RedisRegistry::entries(const Digest& hash) { return cardinality(key("peers", hash)); }

net::Result<std::size_t> RedisRegistry::swarm_count() { return cardinality(tag_ + ":swarms"); }

}  // namespace sockit::cascade
