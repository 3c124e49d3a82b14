// Address::parse and split_host_port on any text: what parse accepts formats back to text that
// parses to the same address (the round trip every log line and --listen relies on), and the
// parts it read are the parts it was given.
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/address.hpp"
#include "support/check.hpp"

using namespace sockit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto parts = net::split_host_port(text);
  if (parts) {
    fuzz::require(parts->host.size() + parts->port.size() + 1 <= text.size(), "split_host_port made text up");
    fuzz::require(!parts->port.empty(), "split_host_port accepted an empty port");
  }

  const auto address = net::Address::parse(text);
  if (!address) {
    fuzz::require(*address.error().what() != 0, "an error without a message");
    return 0;
  }
  const int family = address->family();
  fuzz::require(family == AF_INET || family == AF_INET6 || family == AF_UNIX, "parse made an unknown family");
  fuzz::require(address->length() <= net::Address::capacity(), "an address longer than its storage");
  if (family != AF_UNIX) fuzz::require(parts.has_value(), "an IP address parsed without host:port");

  const auto shown = address->to_string();
  const auto again = net::Address::parse(shown);
  fuzz::require(again.has_value(), "to_string() of a parsed address does not parse: ", shown);
  fuzz::require(*again == *address, "to_string() of a parsed address names another address: ", shown);
  fuzz::require(again->to_string() == shown, "to_string() is not stable: ", shown);
  fuzz::require(again->length() == address->length(), "the round trip changed the address length: ", shown);

  const auto plain = address->unmapped();
  fuzz::require(plain.port() == address->port(), "unmapped() changed the port");
  if (plain.family() == AF_INET && family == AF_INET6) {
    const auto v4 = net::Address::parse(plain.to_string());
    fuzz::require(v4 && *v4 == plain, "an unmapped address does not round-trip");
  }
  return 0;
}
