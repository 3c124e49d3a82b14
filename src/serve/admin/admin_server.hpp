#pragma once

#include <memory>
#include <string_view>

#include "net/address.hpp"
#include "serve/admin/admin_service.hpp"
#include "serve/admin/status_source.hpp"
#include "serve/background_server.hpp"
#include "serve/log.hpp"
#include "serve/model.hpp"

namespace sockit::serve::admin {

/// Where `--admin ADDR:PORT` may listen: a numeric address ("127.0.0.1:9100", "[::1]:0",
/// "localhost:9100"), on loopback unless `allow_public` (--admin-public): the page shows every
/// client's address and the server's state, so it is not put on the network by accident (Redis's
/// protected mode). Throws ConfigError saying what is wrong and which flag allows it.
net::Address admin_address(std::string_view text, bool allow_public);

/// The admin endpoint's connections: `http`'s timeouts (the HTTP service's: how long a request's
/// head may take to arrive, how long a kept-alive connection may wait for the next), with room
/// for a few pages and scrapers (64 connections) and 1 s of grace when stopping.
Limits admin_limits(const Limits& http = {});

/// An admin endpoint: `source` served over HTTP (make_admin_service) on `address`, by a model of
/// its own on a thread of its own (one epoll loop), from construction to destruction, so that the
/// page answers whatever the served model is doing (an iterative or fork model busy with its
/// clients). Its connections go to `log` as the "admin" service's and are never counted in the
/// metrics it shows. `source` must outlive it. Throws net::Error when the bind fails.
class AdminServer {
 public:
  AdminServer(const net::Address& address, const StatusSource& source, AdminOptions options, const Limits& limits,
              Log* log);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  /// Where it listens, with the port the kernel picked for port 0.
  const net::Address& address() const noexcept { return address_; }

 private:
  std::unique_ptr<Service> service_;
  net::Address address_;
  std::unique_ptr<BackgroundServer> server_;  // last: stopped before the service goes
};

}  // namespace sockit::serve::admin
