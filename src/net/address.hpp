#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/result.hpp"

namespace sockit::net {

/// A socket address of any family (IPv4, IPv6, Unix) with its length.
class Address {
 public:
  Address() noexcept;
  Address(const sockaddr* address, socklen_t length) noexcept;

  /// Parses a numeric address: "127.0.0.1:7", "[::1]:7", "unix:/run/x.sock". No DNS.
  static Result<Address> parse(std::string_view text);
  /// The wildcard address of `family` (AF_INET or AF_INET6) with `port`.
  static Address any(int family, std::uint16_t port);
  /// The loopback address of `family` (AF_INET or AF_INET6) with `port`.
  static Address loopback(int family, std::uint16_t port);
  /// A Unix-domain address; paths longer than sun_path are an error.
  static Result<Address> unix_path(std::string_view path);

  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t length() const noexcept { return length_; }
  /// For calls that fill an address in (accept, recvfrom): the capacity, then the real length.
  socklen_t* length_pointer() noexcept { return &length_; }
  static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }

  int family() const noexcept { return storage_.ss_family; }
  bool is_ip() const noexcept;
  /// The port in host order; 0 for Unix addresses.
  std::uint16_t port() const noexcept;
  void set_port(std::uint16_t port) noexcept;
  /// The host part without port: "127.0.0.1", "::1", or the Unix path.
  std::string host() const;
  /// Formats back to the text parse() accepts: "127.0.0.1:7", "[::1]:7", "unix:/path".
  std::string to_string() const;
  /// An IPv4-mapped IPv6 address ([::ffff:127.0.0.1]:7, how a dual-stack socket sees an IPv4
  /// peer) as the IPv4 address it stands for (127.0.0.1:7); any other address as it is.
  Address unmapped() const noexcept;

  friend bool operator==(const Address& a, const Address& b) noexcept;

 private:
  sockaddr_storage storage_;
  socklen_t length_;
};

/// "host:port" split into its parts; "[v6]:port" loses its brackets. A missing port is an error.
struct HostPort {
  std::string host;
  std::string port;
};
Result<HostPort> split_host_port(std::string_view text);
/// The host of "host:port", "[v6]:port", "host" or "[v6]", without port or brackets: a peer
/// ("127.0.0.1:5000" -> "127.0.0.1"), an HTTP Host field ("[::1]:80" -> "::1"). Text with
/// colons and no brackets (a bare IPv6 address) or a Unix address comes back as it is.
std::string_view host_part(std::string_view text) noexcept;

/// One getaddrinfo() result.
struct Resolved {
  Address address;
  int family = 0;
  int socktype = 0;
  int protocol = 0;
  std::string canonical_name;  ///< only on the first result, when asked for
};

struct ResolveOptions {
  int family = AF_UNSPEC;
  int socktype = 0;  ///< 0: every type (stream, datagram, raw)
  int flags = 0;     ///< AI_* flags, e.g. AI_PASSIVE, AI_CANONNAME, AI_ADDRCONFIG
};

/// Every address getaddrinfo() gives for `host` and `service`, in its order (protocol-independent,
/// as the notes insist). An empty host means the local host (or the wildcard with AI_PASSIVE).
/// Blocks on DNS. Errors carry gai_strerror()'s message.
Result<std::vector<Resolved>> resolve(std::string_view host, std::string_view service,
                                      const ResolveOptions& options = {});

/// The name getnameinfo() finds for `address` (NI_NAMEREQD: no name is an error).
Result<std::string> reverse(const Address& address);

}  // namespace sockit::net
