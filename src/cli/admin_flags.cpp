#include "cli/admin_flags.hpp"

#include <fmt/core.h>

#include "cli/option_checks.hpp"
#include "serve/server.hpp"

namespace sockit::cli {

void add_admin_flags(CLI::App& command, AdminFlags& flags) {
  command
      .add_option("--admin", flags.address,
                  "serve a status page (/), Prometheus metrics (/metrics) and /status.json on this ADDR:PORT "
                  "(loopback only, unless --admin-public; port 0 picks one; off by default)")
      ->check(checks::listen_address());
  command.add_flag("--admin-public", flags.allow_public,
                   "let --admin listen on an address other than loopback: the page shows every client's address");
}

std::optional<std::string> admin_flags_error(const AdminFlags& flags) {
  if (!flags.wanted()) {
    if (flags.allow_public) return "--admin-public needs --admin ADDR:PORT";
    return std::nullopt;
  }
  try {
    serve::admin::admin_address(flags.address, flags.allow_public);
  } catch (const serve::ConfigError& e) {
    return e.what();
  }
  return std::nullopt;
}

std::unique_ptr<serve::admin::AdminServer> start_admin(const AdminFlags& flags,
                                                       const serve::admin::StatusSource& source, serve::Log& log,
                                                       const serve::Limits& http) {
  if (!flags.wanted()) return nullptr;
  const auto address = serve::admin::admin_address(flags.address, flags.allow_public);
  auto admin = std::make_unique<serve::admin::AdminServer>(
      address, source, serve::admin::AdminOptions{.loopback_hosts_only = !flags.allow_public},
      serve::admin::admin_limits(http), &log);
  log.notice(fmt::format("admin page on http://{}/ (/metrics, /status.json){}", admin->address().to_string(),
                         flags.allow_public ? "; reachable from the network (--admin-public)" : ""));
  return admin;
}

}  // namespace sockit::cli
