#include "serve/cidr.hpp"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace sockit::serve {
namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

unsigned width(int family) { return family == AF_INET ? 32 : 128; }

// The first `prefix` bits of `a` and `b` are equal.
bool same_prefix(const std::uint8_t* a, const std::uint8_t* b, unsigned prefix) {
  const unsigned whole = prefix / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  const unsigned rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

bool host_bits_clear(const Cidr& c) {
  const unsigned bytes = width(c.family) / 8;
  for (unsigned bit = c.prefix; bit < bytes * 8; ++bit)
    if (c.bytes[bit / 8] & (0x80 >> (bit % 8))) return false;
  return true;
}

// The source as a family and its address bytes; IPv4-mapped IPv6 as IPv4.
bool bytes_of(const net::Address& raw, int& family, std::array<std::uint8_t, 16>& bytes) {
  const net::Address address = raw.unmapped();
  family = address.family();
  if (family == AF_INET) {
    std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in*>(address.get())->sin_addr, 4);
    return true;
  }
  if (family == AF_INET6) {
    std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in6*>(address.get())->sin6_addr, 16);
    return true;
  }
  return false;
}

// The most specific network of `list` containing the source; -1 when none does.
int longest_match(const std::vector<Cidr>& list, int family, const std::array<std::uint8_t, 16>& bytes,
                  const Cidr*& which) {
  int best = -1;
  for (const auto& c : list)
    if (c.family == family && same_prefix(c.bytes.data(), bytes.data(), c.prefix) && static_cast<int>(c.prefix) > best) {
      best = static_cast<int>(c.prefix);
      which = &c;
    }
  return best;
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text, std::string& problem) {
  const auto slash = text.find('/');
  const std::string host(text.substr(0, slash));
  Cidr c;
  if (::inet_pton(AF_INET, host.c_str(), c.bytes.data()) == 1) {
    c.family = AF_INET;
  } else if (::inet_pton(AF_INET6, host.c_str(), c.bytes.data()) == 1) {
    c.family = AF_INET6;
  } else {
    problem = fmt::format("'{}' is not a numeric IPv4 or IPv6 address", host);
    return std::nullopt;
  }
  c.prefix = width(c.family);
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    unsigned prefix = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || digits.size() > 3 || ec != std::errc{} || end != digits.data() + digits.size() ||
        prefix > width(c.family)) {
      problem = fmt::format("'{}' is not a prefix length from 0 to {}", digits, width(c.family));
      return std::nullopt;
    }
    c.prefix = prefix;
  }
  if (!host_bits_clear(c)) {
    problem = fmt::format("{} has bits set past its /{} (a network is written with them clear)", host, c.prefix);
    return std::nullopt;
  }
  if (c.family == AF_INET6 && c.prefix >= 96 && std::memcmp(c.bytes.data(), kMappedPrefix, 12) == 0) {
    std::memmove(c.bytes.data(), c.bytes.data() + 12, 4);
    std::fill(c.bytes.begin() + 4, c.bytes.end(), std::uint8_t{0});
    c.family = AF_INET;
    c.prefix -= 96;
  }
  return c;
}

bool Cidr::contains(const net::Address& address) const noexcept {
  int source_family = 0;
  std::array<std::uint8_t, 16> source{};
  return bytes_of(address, source_family, source) && source_family == family &&
         same_prefix(bytes.data(), source.data(), prefix);
}

std::string Cidr::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, bytes.data(), text, sizeof text);
  return fmt::format("{}/{}", text, prefix);
}

std::optional<std::string> AccessRules::refusal(const net::Address& source) const {
  if (empty()) return std::nullopt;
  int family = 0;
  std::array<std::uint8_t, 16> bytes{};
  if (!bytes_of(source, family, bytes)) return allow.empty() ? std::nullopt : std::optional<std::string>("not on the allow list");
  const Cidr* allowed_by = nullptr;
  const Cidr* denied_by = nullptr;
  const int allow_match = longest_match(allow, family, bytes, allowed_by);
  const int deny_match = longest_match(deny, family, bytes, denied_by);
  if (deny_match >= 0 && deny_match >= allow_match) return "deny " + denied_by->to_string();
  if (allow_match < 0 && !allow.empty()) return std::string("not on the allow list");
  return std::nullopt;
}

}  // namespace sockit::serve
