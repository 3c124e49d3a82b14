#pragma once

// The settings of `sockit serve` as a config file (config_file.hpp) or the command line gives
// them, each with where it was given, before resolve() makes one ServerConfig of them: built-in
// defaults, then the file's [defaults], then its [services.NAME], then the command line.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.hpp"
#include "serve/cidr.hpp"
#include "serve/server.hpp"

namespace sockit::serve {

/// Where a setting was given: "sockit.toml:12:9" and its key "services.echo.port", or
/// "command line" and "--max-conns".
struct Spot {
  std::string where;
  std::string key;
};

template <typename T>
struct Setting {
  std::optional<T> value;
  Spot spot;

  void set(T v, Spot at) {
    value = std::move(v);
    spot = std::move(at);
  }
};

struct Transports {
  bool tcp = true;
  bool udp = true;
};

/// What a service's table in a config file, its [defaults], or the command line (over every
/// service) may set. The last group belongs to one service each (daytime, fib, http).
struct ServiceSettings {
  Setting<Transports> transport;
  Setting<std::vector<std::uint16_t>> port;
  Setting<std::vector<net::Address>> listen;
  Setting<std::string> model;
  Setting<unsigned> threads;
  Setting<bool> offload;
  Setting<std::size_t> max_conns;
  Setting<std::chrono::milliseconds> idle_timeout;     ///< 0: never
  Setting<std::chrono::milliseconds> request_timeout;  ///< 0: no limit
  Setting<std::size_t> max_line;
  Setting<std::size_t> per_source;  ///< 0: no limit
  Setting<double> rate;             ///< connections a second; 0: no limit
  Setting<std::chrono::milliseconds> rate_cooldown;
  Setting<std::vector<Cidr>> allow;
  Setting<std::vector<Cidr>> deny;
  Setting<std::string> format;     ///< daytime
  Setting<std::string> algorithm;  ///< fib
  Setting<std::string> root;       ///< http, and the rest
  Setting<bool> autoindex;
  Setting<std::size_t> keepalive_requests;
  Setting<std::chrono::milliseconds> keepalive_timeout;  ///< http's name for its idle timeout
  Setting<std::chrono::milliseconds> header_timeout;     ///< http's name for its request timeout
  Setting<std::string> access_log;
};

/// The whole server's settings: a config file's [server], or the command line.
struct ServerSettings {
  Setting<std::size_t> max_conns;
  Setting<std::chrono::milliseconds> grace;
  Setting<bool> system_ports;
  Setting<bool> quiet;
  Setting<bool> json_log;
  Setting<double> udp_rate;
};

struct NamedService {
  std::string name;
  Spot spot;  ///< its table's header, or its SERVICE[:PORT] argument
  ServiceSettings settings;
};

/// One source of settings: a config file, or the command line over it.
struct Settings {
  ServerSettings server;
  /// A file's [defaults]; the command line's flags, over every service's.
  ServiceSettings defaults;
  /// A file's [services.NAME] tables in the file's order; the command line's SERVICE[:PORT]s.
  std::vector<NamedService> services;
};

/// A mistake in the settings: "sockit.toml:12:9: services.echo.port: expected ...".
struct SettingError {
  Spot spot;
  std::string message;

  std::string text() const;
};

/// Settings that cannot be served: every mistake found, in the order found (the first 20).
struct SettingErrors : ConfigError {
  explicit SettingErrors(std::vector<SettingError> found);
  std::vector<SettingError> errors;
};

/// The settings resolved: what the Server gets, and what the log is made with.
struct Resolved {
  ServerConfig config;
  bool quiet = false;
  bool json_log = false;
};

/// `file` (empty when there is none) under `command_line`. The services are the command line's
/// SERVICE[:PORT]s if it names any, else the file's, else every service (http only with a root);
/// each gets the built-in defaults, the file's [defaults], its own table, then the flags (a
/// flag of one service, --format say, only for that one). Throws SettingErrors for every
/// problem check() finds, each at the spot that gave the key at fault.
Resolved resolve(const Settings& file, const Settings& command_line);

/// The limits `service` gets from `file` under `command_line` (its table, [defaults], the flags),
/// whether it is served or not: what the admin endpoint takes from http's settings.
Limits limits_of(const std::string& service, const Settings& file, const Settings& command_line);

/// "127.0.0.1", "::1", "0.0.0.0", "::" or "localhost" (127.0.0.1): an address to listen on, or
/// nullopt and why not.
std::optional<net::Address> parse_listen_address(std::string_view text, std::string& problem);
/// "10", "10/s", "600/min", "36000/h": connections a second, or nullopt and why not.
std::optional<double> parse_rate(std::string_view text, std::string& problem);

/// The largest rate, connection count and per-source count a setting takes.
inline constexpr double kMaxRate = 1e9;
inline constexpr std::size_t kMaxConnsSetting = 10'000'000;

}  // namespace sockit::serve
