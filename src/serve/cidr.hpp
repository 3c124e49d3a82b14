#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.hpp"

namespace sockit::serve {

/// An IPv4 or IPv6 network: an address and a prefix length ("10.0.0.0/8", "2001:db8::/32",
/// "127.0.0.2" for one host). An IPv6 network inside ::ffff:0:0/96 (IPv4-mapped) is kept as the
/// IPv4 network it stands for, since sources are judged as IPv4 when they are mapped.
struct Cidr {
  int family = 0;                    ///< AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes{};  ///< network order; IPv4 in the first 4
  unsigned prefix = 0;               ///< 0-32 (IPv4) or 0-128 (IPv6)

  /// Parses "ADDRESS[/PREFIX]" (numeric only: no names, no zone ids). Bits set past the prefix
  /// are an error ("10.0.0.1/8": a typo for a host or for the network?). On error: nullopt and
  /// `problem` says why.
  static std::optional<Cidr> parse(std::string_view text, std::string& problem);

  /// True when `address` (IPv4-mapped IPv6 taken as IPv4) is inside this network.
  bool contains(const net::Address& address) const noexcept;
  /// "10.0.0.0/8", "::1/128".
  std::string to_string() const;

  friend bool operator==(const Cidr&, const Cidr&) = default;
};

/// An allow list and a deny list (xinetd's only_from and no_access). A source is judged by the
/// most specific network of either list that contains it (longest prefix; deny wins a tie): on
/// neither list, it is allowed when the allow list is empty. So "allow 10.0.0.0/8, deny
/// 10.1.0.0/16" and "deny 0.0.0.0/0, allow 10.1.2.3" both read as they would be meant. IPv4-mapped
/// IPv6 sources are judged as IPv4. Pure; a look-up scans both lists (they are short: an
/// operator's).
struct AccessRules {
  std::vector<Cidr> allow;
  std::vector<Cidr> deny;

  /// Nullopt when `source` may connect; else why not: "deny 10.1.0.0/16" or "not on the allow list".
  std::optional<std::string> refusal(const net::Address& source) const;
  bool empty() const noexcept { return allow.empty() && deny.empty(); }

  friend bool operator==(const AccessRules&, const AccessRules&) = default;
};

}  // namespace sockit::serve
