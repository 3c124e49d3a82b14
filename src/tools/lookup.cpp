#include "tools/lookup.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <charconv>

namespace sockit::tools {
namespace {

std::optional<int> parse_number(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<std::string> aliases_of(char** list) {
  std::vector<std::string> aliases;
  for (; list && *list; ++list) aliases.emplace_back(*list);
  return aliases;
}

}  // namespace

std::vector<ServiceEntry> find_service(std::string_view spec) {
  const auto slash = spec.find('/');
  const std::string text(spec.substr(0, slash));
  std::vector<std::string> protocols = {"tcp", "udp", "sctp", "ddp"};
  if (slash != std::string_view::npos) protocols = {std::string(spec.substr(slash + 1))};
  const auto port = parse_number(text);
  if (text.empty() || protocols.front().empty()) return {};
  std::vector<ServiceEntry> found;
  for (const auto& protocol : protocols) {
    servent* entry = nullptr;
    if (port) {
      if (*port < 0 || *port > 65535) return {};
      entry = ::getservbyport(htons(static_cast<uint16_t>(*port)), protocol.c_str());
    } else {
      entry = ::getservbyname(text.c_str(), protocol.c_str());
    }
    if (entry)
      found.push_back({entry->s_name, ntohs(static_cast<uint16_t>(entry->s_port)), entry->s_proto,
                       aliases_of(entry->s_aliases)});
  }
  return found;
}

std::optional<ProtocolEntry> find_protocol(std::string_view name_or_number) {
  const std::string text(name_or_number);
  const auto number = parse_number(text);
  protoent* entry = number ? ::getprotobynumber(*number) : ::getprotobyname(text.c_str());
  if (!entry) return std::nullopt;
  return ProtocolEntry{entry->p_name, entry->p_proto, aliases_of(entry->p_aliases)};
}

std::string family_name(int family) {
  switch (family) {
    case AF_INET: return "inet";
    case AF_INET6: return "inet6";
    case AF_UNIX: return "unix";
    default: return std::to_string(family);
  }
}

std::string socktype_name(int socktype) {
  switch (socktype) {
    case SOCK_STREAM: return "stream";
    case SOCK_DGRAM: return "dgram";
    case SOCK_RAW: return "raw";
    case SOCK_SEQPACKET: return "seqpacket";
    default: return std::to_string(socktype);
  }
}

std::string protocol_name(int protocol) {
  if (protocol == 0) return "ip";
  if (protoent* entry = ::getprotobynumber(protocol)) return entry->p_name;
  return std::to_string(protocol);
}

}  // namespace sockit::tools
