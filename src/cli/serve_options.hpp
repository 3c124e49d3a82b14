#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "cli/admin_flags.hpp"
#include "cli/usage_error.hpp"
#include "serve/services/services.hpp"
#include "serve/settings.hpp"
#include "serve/udp_guard.hpp"

namespace sockit::cli {

/// `sockit serve`'s flags as CLI11 fills them in.
struct ServeOptions {
  std::vector<std::string> services;
  std::string model;
  std::string listen;
  bool udp_only = false;
  bool tcp_only = false;
  unsigned threads = 0;
  bool no_offload = false;
  std::size_t max_conns = 10000;
  std::optional<double> idle_timeout;
  std::optional<double> request_timeout;
  std::optional<double> keepalive_timeout;
  std::optional<double> header_timeout;
  std::size_t max_line = 8192;
  std::size_t per_source = 0;
  std::string rate;
  double rate_cooldown = 10;
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  bool quiet = false;
  bool json_log = false;
  bool system_ports = false;
  std::string format = "inetd";
  std::string algorithm = "iterative";
  double grace = 5;
  double udp_rate = serve::kDefaultUdpRate;
  bool list_models = false;
  bool list_services = false;
  std::string config;
  std::string check_config;
  serve::services::HttpOptions http;
  AdminFlags admin;
};

/// The flags given on the command line (`cmd` says which), as settings over a config file's:
/// each flag sets the config key of the same meaning (config_file.hpp's ConfigKey::flag), the
/// SERVICE[:PORT] arguments name the services. Throws UsageError for a bad SERVICE:PORT, --listen,
/// --rate, --allow or --deny.
serve::Settings command_line_settings(const ServeOptions& o, const CLI::App& cmd);

}  // namespace sockit::cli
