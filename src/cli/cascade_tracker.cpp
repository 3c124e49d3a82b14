#include <fmt/core.h>

#include <memory>
#include <optional>

#include "cascade/allow_dir.hpp"
#include "cascade/cascade_file.hpp"
#include "cascade/protocol.hpp"
#include "cascade/redis_registry.hpp"
#include "cascade/regular_file.hpp"
#include "cascade/serving.hpp"
#include "cascade/tracker.hpp"
#include "cascade/tracker_status.hpp"
#include "cli/admin_flags.hpp"
#include "cli/cascade_commands.hpp"
#include "net/address.hpp"
#include "net/io.hpp"
#include "net/socket.hpp"
#include "net/text.hpp"
#include "serve/inherited_sockets.hpp"
#include "serve/metrics.hpp"
#include "serve/notify.hpp"

namespace sockit::cli::cascade_commands {
namespace {

struct TrackerOptions {
  std::string listen;
  std::vector<std::string> allow;
  std::string allow_dir;
  bool allow_any = false;
  std::vector<std::string> good_ips;
  bool ban_private = false;
  std::string trust = "source";
  cascade::RegistryCaps caps;
  double max_rate = 20;
  std::string config;
  double idle_timeout = 10;
  double request_timeout = 5;
  std::size_t max_conns = 10000;
  bool quiet = false;
  bool json_log = false;
  AdminFlags admin;
  std::string redis;
  double redis_timeout = 0.5;
  std::string redis_prefix = "sockit-tracker";
};

constexpr std::uint64_t kMaxConfigSize = 1 << 20;  // the course's config is a few lines
constexpr std::size_t kShownPath = 8192;            // a path is shown whole, however long

int usage(const std::string& message) {
  fmt::print(stderr, "sockit cascade tracker: {}\n", message);
  return 2;
}

// --redis HOST:PORT (a name is resolved once, now) or unix:PATH.
net::Address redis_address(const std::string& text) {
  if (text.starts_with("unix:")) return net::Address::parse(text).value();
  const auto parts = net::split_host_port(text).value();
  const auto found = net::resolve(parts.host, parts.port, {.family = AF_UNSPEC, .socktype = SOCK_STREAM}).value();
  if (found.empty()) throw std::runtime_error("no address for --redis " + text);
  return found.front().address;
}

std::shared_ptr<cascade::RedisRegistry> redis_registry(const TrackerOptions& o, const cascade::TrackerConfig& config,
                                                       serve::Log& log) {
  cascade::RedisSettings settings;
  settings.server = redis_address(o.redis);
  settings.timeout = std::chrono::milliseconds(static_cast<long long>(o.redis_timeout * 1000 + 0.5));
  return std::make_shared<cascade::RedisRegistry>(settings, o.redis_prefix, config.caps,
                                                  [&log](std::string_view line) { log.notice(line); });
}

int run_tracker(const TrackerOptions& o) {
  if (auto error = admin_flags_error(o.admin)) return usage(*error);
  cascade::TrackerConfig config;
  if (!o.config.empty()) {
    // A regular file of sane size: --config /dev/zero would be read forever, a FIFO waited on.
    const auto text = cascade::read_regular_file(o.config, kMaxConfigSize).value();
    config = cascade::parse_tracker_config(net::as_text(text), o.config).value();
  }
  for (const auto& hex : o.allow) {
    auto digest = cascade::digest_from_hex(hex);
    if (!digest) return usage(fmt::format("--allow {} is not a 64-digit hex cascade hash", hex));
    config.allowed.insert(*digest);
  }
  std::vector<std::string> listed;
  if (!o.allow_dir.empty()) {
    // Names found in a directory are shown printable: anyone who can write there chooses them.
    const auto found = cascade::scan_allow_dir(o.allow_dir).value();
    for (const auto& why : found.skipped)
      fmt::print(stderr, "sockit cascade tracker: skipping {}\n", net::printable(why, kShownPath));
    for (const auto& file : found.tracked) {
      config.allowed.insert(file.cascade_hash);
      listed.push_back(
          fmt::format("tracking {} {}", cascade::to_hex(file.cascade_hash), net::printable(file.path, kShownPath)));
    }
  }
  for (const auto& ip : o.good_ips) {
    auto parsed = cascade::parse_ipv4(ip);
    if (!parsed) return usage(fmt::format("--good-ip {} is not an IPv4 address", ip));
    config.good_ips.insert(*parsed);
  }
  config.ban_private = config.ban_private || o.ban_private;
  config.trust = o.trust == "message" ? cascade::TrackerTrust::message : cascade::TrackerTrust::source;
  config.caps = o.caps;
  config.max_rate = o.max_rate;
  config.allow_any = o.allow_any;
  if (!config.allow_any && config.allowed.empty())
    return usage("nothing to track: give --allow HASH, --allow-dir DIR, --allow-any or a config with allowedhashes");

  // systemd's socket (socket activation) when it passed one, else --listen's or the config's port.
  auto inherited = serve::single_inherited_listener(serve::take_inherited_sockets());
  if (inherited && !o.listen.empty()) return usage("--listen and a socket from systemd (LISTEN_FDS): give one");
  std::string listen = o.listen;
  if (!inherited && listen.empty()) {
    if (!config.port) return usage("give --listen ADDR:PORT (or \"port\" in the config)");
    listen = fmt::format("0.0.0.0:{}", *config.port);
  }
  auto listener = inherited ? std::move(*inherited) : net::listen_on(net::Address::parse(listen).value()).value();
  const auto where = listener.local_address().value();

  serve::Log log(stdout, o.quiet, o.json_log ? serve::Log::Format::json : serve::Log::Format::text);
  std::shared_ptr<cascade::SwarmRegistry> registry;
  std::string shared;
  if (o.redis.empty()) {
    registry = std::make_shared<cascade::TrackerRegistry>(config.caps);
  } else {
    auto redis = redis_registry(o, config, log);
    shared = fmt::format("; swarms in Redis at {} under {{{}}}", redis->server(), o.redis_prefix);
    (void)redis->swarm_count();  // a Redis that is down is said now (one line), not at the first request
    registry = std::move(redis);
  }
  cascade::TrackerService service(config, registry);
  const auto metrics = o.admin.wanted() ? std::make_unique<serve::Metrics>() : nullptr;
  auto model = cascade::make_serving_model(&log, metrics.get());
  serve::Limits limits;
  limits.idle_timeout = std::chrono::milliseconds(static_cast<long>(o.idle_timeout * 1000));
  limits.max_conns = o.max_conns;
  limits.request_timeout = std::chrono::milliseconds(static_cast<long>(o.request_timeout * 1000));
  limits.grace_period = std::chrono::seconds(1);
  serve::StopSignal stop;
  // Before the "listening" line: whoever reads it may signal at once.
  StopOnSignals signals(stop, [&log] { serve::log_notify_failure(serve::notify_stopping("stopping"), log); });
  for (const auto& line : listed) log.notice(line);
  const auto tracked = config.allow_any ? "any hash" : net::counted(config.allowed.size(), "hash", "hashes");
  log.notice(fmt::format("cascade tracker ({} model) listening on {} ({}{})", model->name(), where.to_string(), tracked,
                         shared));
  std::optional<cascade::TrackerStatus> admin_status;
  if (metrics) admin_status.emplace(service, *metrics);
  const auto admin = admin_status ? start_admin(o.admin, *admin_status, log) : nullptr;
  const auto status = fmt::format("tracking {} on {}{}", tracked, where.to_string(), shared);
  serve::log_notify_failure(serve::notify_ready(status), log);
  model->run(listener, service, limits, stop);
  log.notice("cascade tracker stopped");
  return 0;
}

}  // namespace

Command add_tracker(CLI::App& parent) {
  auto o = std::make_shared<TrackerOptions>();
  auto* cmd = parent.add_subcommand("tracker", "Run a Cascade tracker (the course tracker's protocol and config)");
  cmd->add_option("--listen", o->listen, "ADDR:PORT to listen on (port 0 picks one)")->check(checks::listen_address());
  cmd->add_option("--allow", o->allow, "a cascade hash (hex) to track; repeatable");
  cmd->add_option("--allow-dir", o->allow_dir, "track every *.cascade file in DIR")->check(checks::non_empty());
  cmd->add_flag("--allow-any", o->allow_any, "track any hash (the course tracker never does)");
  cmd->add_option("--good-ip", o->good_ips, "an IPv4 address whose peers are flagged good; repeatable");
  cmd->add_flag("--ban-private", o->ban_private, "refuse private listening addresses");
  cmd->add_option("--trust", o->trust,
                  "which address a subscribe may register: source (only the connection's own) or message "
                  "(any, as the course tracker)")
      ->check(CLI::IsMember({"source", "message"}))->capture_default_str();
  cmd->add_option("--max-swarms", o->caps.swarms, "cascade hashes tracked at once; more are refused")
      ->transform(checks::whole<std::size_t>(1, std::size_t{1} << 24))->capture_default_str();
  cmd->add_option("--max-peers", o->caps.peers, "peers registered per swarm; more are refused, none evicted")
      ->transform(checks::whole<std::size_t>(1, std::size_t{1} << 24))->capture_default_str();
  cmd->add_option("--max-peers-per-ip", o->caps.peers_per_ip, "peers of one IPv4 address per swarm")
      ->transform(checks::whole<std::size_t>(1, 65535))->capture_default_str();
  cmd->add_option("--max-rate", o->max_rate,
                  "requests a second from one address (an IPv6 /64), in bursts of a second's worth; a source "
                  "over it is refused for a second (0: no limit)")
      ->transform(checks::between(0, 1e6))->capture_default_str();
  cmd->add_option("--config", o->config, "the course tracker's JSON config (port, allowedhashes, good-ips, ban-private)")
      ->check(checks::non_empty());
  cmd->add_option("--idle-timeout", o->idle_timeout, "close a client silent for this long (seconds)")->capture_default_str()
      ->transform(checks::positive_seconds());
  cmd->add_option("--request-timeout", o->request_timeout,
                  "seconds a request begun may take to arrive whole; then status 1 and close (0: no limit)")
      ->transform(checks::seconds_or_zero())->capture_default_str();
  cmd->add_option("--max-conns", o->max_conns, "clients served at once")->capture_default_str()
      ->transform(checks::whole<std::size_t>(1, 10'000'000));
  cmd->add_option("--redis", o->redis,
                  "keep the swarms in Redis at HOST:PORT (or unix:PATH), shared with every tracker that names it: "
                  "run any number of trackers behind DNS or a load balancer (docs/trackers.md)")
      ->check(checks::host_port(true));
  cmd->add_option("--redis-timeout", o->redis_timeout,
                  "seconds a request may wait on Redis in all (connect, command, reply); a Redis that is down "
                  "or slower gets status 1 and is tried again with back-off")
      ->transform(checks::positive_seconds())->capture_default_str();
  cmd->add_option("--redis-prefix", o->redis_prefix,
                  "the hash tag of the keys in Redis ({PREFIX}:swarms ...): trackers with the same one share swarms")
      ->check(CLI::Validator(
          [](std::string& text) {
            return cascade::valid_redis_prefix(text) ? std::string()
                                                     : std::string("must be 1-64 printable characters, no braces");
          },
          "NAME"))
      ->capture_default_str();
  cmd->add_flag("--quiet", o->quiet, "log only startup, errors and shutdown");
  cmd->add_flag("--json-log", o->json_log, "log JSON lines");
  add_admin_flags(*cmd, o->admin);
  cmd->footer(
      "Examples:\n"
      "  sockit cascade tracker --listen 127.0.0.1:8000 --allow-dir shared/\n"
      "  sockit cascade tracker --listen 0.0.0.0:8000 --allow-dir shared/ --redis 10.0.0.5:6379  # on each of N hosts");
  return {cmd, [o] {
            try {
              return run_tracker(*o);
            } catch (const serve::ConfigError& e) {  // socket activation's
              return usage(e.what());
            }
          }};
}

}  // namespace sockit::cli::cascade_commands
