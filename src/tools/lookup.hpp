#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.hpp"

namespace sockit::tools {

/// One /etc/services entry (through getservbyname/getservbyport).
struct ServiceEntry {
  std::string name;
  int port = 0;
  std::string protocol;  ///< "tcp", "udp", ...
  std::vector<std::string> aliases;
};

/// Every entry for a service name or port number, for TCP then UDP (and any other protocol
/// the name has); "ssh/tcp" or "22/udp" (getent's and /etc/services' spelling) asks for that
/// protocol only. Empty when the system knows none. Not thread-safe (uses getservby*).
std::vector<ServiceEntry> find_service(std::string_view spec);

/// One /etc/protocols entry (through getprotobyname/getprotobynumber).
struct ProtocolEntry {
  std::string name;
  int number = 0;
  std::vector<std::string> aliases;
};
std::optional<ProtocolEntry> find_protocol(std::string_view name_or_number);

/// Names for what getaddrinfo returns: "inet"/"inet6"/"unix", "stream"/"dgram"/"raw",
/// "tcp"/"udp"/... (from /etc/protocols, else the number).
std::string family_name(int family);
std::string socktype_name(int socktype);
std::string protocol_name(int protocol);

}  // namespace sockit::tools
