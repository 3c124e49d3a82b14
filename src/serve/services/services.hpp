#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "serve/session.hpp"

namespace sockit::serve::services {

/// The http service's flags.
struct HttpOptions {
  std::string root;                       ///< --root: the directory served (http needs one)
  bool autoindex = false;                 ///< --autoindex: list a directory without index.html
  std::size_t keepalive_requests = 1000;  ///< --keepalive-requests: then the connection closes
  std::string access_log;                 ///< --access-log: a file, "-" for stdout, "" none

  friend bool operator==(const HttpOptions&, const HttpOptions&) = default;
};

/// Service flags of `sockit serve`.
struct ServiceOptions {
  std::string daytime_format = "inetd";   ///< "inetd" (ctime-like) or "iso" (ISO 8601)
  std::string fib_algorithm = "iterative";  ///< "iterative" (exact big numbers) or "recursive" (the notes')
  HttpOptions http;

  friend bool operator==(const ServiceOptions&, const ServiceOptions&) = default;
};

/// DESIGN.md's table: name, default port, --system-ports port, transports.
struct ServiceInfo {
  std::string_view name;
  std::uint16_t port;
  std::uint16_t system_port;
  bool tcp;
  bool udp;
};
const std::vector<ServiceInfo>& catalog();
/// nullptr for an unknown name.
const ServiceInfo* find(std::string_view name);

/// Whether this build has the service's TCP (or UDP) form.
bool has_tcp(std::string_view name);
bool has_udp(std::string_view name);
/// nullptr when the service has no TCP (or UDP) form.
std::unique_ptr<Service> make_tcp(std::string_view name, const ServiceOptions& options);
std::unique_ptr<DatagramService> make_udp(std::string_view name, const ServiceOptions& options);

// One pair per file in this folder (a service without a transport has no factory for it).
std::unique_ptr<Service> make_echo_tcp(const ServiceOptions& options);
std::unique_ptr<DatagramService> make_echo_udp(const ServiceOptions& options);
std::unique_ptr<Service> make_discard_tcp(const ServiceOptions& options);
std::unique_ptr<DatagramService> make_discard_udp(const ServiceOptions& options);
std::unique_ptr<Service> make_chargen_tcp(const ServiceOptions& options);
std::unique_ptr<DatagramService> make_chargen_udp(const ServiceOptions& options);
std::unique_ptr<Service> make_daytime_tcp(const ServiceOptions& options);
std::unique_ptr<DatagramService> make_daytime_udp(const ServiceOptions& options);
std::unique_ptr<Service> make_time_tcp(const ServiceOptions& options);
std::unique_ptr<DatagramService> make_time_udp(const ServiceOptions& options);
std::unique_ptr<Service> make_fib_tcp(const ServiceOptions& options);
std::unique_ptr<Service> make_upper_tcp(const ServiceOptions& options);
std::unique_ptr<DatagramService> make_upper_udp(const ServiceOptions& options);
std::unique_ptr<DatagramService> make_length_udp(const ServiceOptions& options);
std::unique_ptr<Service> make_incr_tcp(const ServiceOptions& options);
std::unique_ptr<DatagramService> make_incr_udp(const ServiceOptions& options);
std::unique_ptr<Service> make_http_tcp(const ServiceOptions& options);

}  // namespace sockit::serve::services
