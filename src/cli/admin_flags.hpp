#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

#include "serve/admin/admin_server.hpp"
#include "serve/admin/status_source.hpp"
#include "serve/log.hpp"

namespace sockit::cli {

/// `--admin ADDR:PORT` and `--admin-public`, the same for `sockit serve`, `cascade tracker` and
/// `cascade peer` (docs/admin.md).
struct AdminFlags {
  std::string address;  ///< empty: no admin endpoint (the default)
  bool allow_public = false;

  bool wanted() const noexcept { return !address.empty(); }
};

void add_admin_flags(CLI::App& command, AdminFlags& flags);

/// What is wrong with the flags (an address that is not loopback without --admin-public), for
/// the usage error (exit 2), before anything is started; nullopt when they are fine.
std::optional<std::string> admin_flags_error(const AdminFlags& flags);

/// The endpoint the flags ask for, serving `source` until it is destroyed; nullptr without
/// --admin. Its connections have `http`'s timeouts (serve::admin::admin_limits). Logs where it
/// listens ("admin page on http://127.0.0.1:9100/ ..."). Throws net::Error when the bind fails.
std::unique_ptr<serve::admin::AdminServer> start_admin(const AdminFlags& flags,
                                                       const serve::admin::StatusSource& source, serve::Log& log,
                                                       const serve::Limits& http = {});

}  // namespace sockit::cli
