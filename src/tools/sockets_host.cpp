#include "tools/sockets_host.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <string>

namespace sockit::tools {
namespace {

std::optional<int> whole_number(std::string_view text, int max) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < 0 || value > max)
    return std::nullopt;
  return value;
}

// "ADDRESS[/LENGTH]" of one family; "*" or "" is any address.
bool parse_address(std::string_view text, HostCondition& host) {
  if (text.empty() || text == "*") return true;
  std::string_view address = text;
  std::optional<int> length;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    length = whole_number(text.substr(slash + 1), 128);
    if (!length) return false;
  }
  const std::string copy(address);
  for (int family : {AF_INET, AF_INET6}) {
    if (::inet_pton(family, copy.c_str(), host.address.data()) != 1) continue;
    const int bits = family == AF_INET ? 32 : 128;
    if (length && *length > bits) return false;
    host.family = family;
    host.prefix_length = length.value_or(bits);
    return true;
  }
  return false;
}

// The ":PORT" after a HOST: a number or "*" (any port).
bool parse_host_port(std::string_view port, HostCondition& host) {
  if (port == "*") return true;
  const auto number = whole_number(port, 65535);
  if (!number) return false;
  host.port = *number;
  return true;
}

}  // namespace

bool parse_filter_host(std::string_view text, HostCondition& host) {
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    std::string address(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (rest.starts_with('/')) {  // "[fe80::]/10", "[fe80::]/10:22"
      if (address.find('/') != std::string::npos) return false;
      const auto colon = std::min(rest.find(':'), rest.size());
      address += rest.substr(0, colon);
      rest.remove_prefix(colon);
    }
    if (!parse_address(address, host) || host.family != AF_INET6) return false;
    if (rest.empty()) return true;
    return rest.starts_with(':') && parse_host_port(rest.substr(1), host);
  }
  if (std::count(text.begin(), text.end(), ':') >= 2) return parse_address(text, host) && host.family == AF_INET6;
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return parse_address(text, host);
  return parse_address(text.substr(0, colon), host) && host.family != AF_INET6 &&
         parse_host_port(text.substr(colon + 1), host);
}

std::optional<std::uint16_t> parse_filter_port(std::string_view text) {
  if (text.starts_with("*:")) text.remove_prefix(2);
  else if (text.starts_with(':')) text.remove_prefix(1);
  const auto number = whole_number(text, 65535);
  if (!number) return std::nullopt;
  return static_cast<std::uint16_t>(*number);
}

}  // namespace sockit::tools
