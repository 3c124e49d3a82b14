#pragma once

// The addresses and ports of ss's filter expressions, numeric only (no I/O).
#include <cstdint>
#include <optional>
#include <string_view>

#include "tools/sockets_bytecode.hpp"

namespace sockit::tools {

/// ss's HOST into `host`: "*", "127.0.0.1", "10.0.0.0/8", "127.0.0.1:22", "*:22", ":22",
/// "[::1]:22", "[fe80::]/10", "[fe80::/10]:22", "::1" (an IPv6 address without brackets takes
/// no port). False for anything else ("" is any address: the caller refuses it if it must).
bool parse_filter_host(std::string_view text, HostCondition& host);

/// The PORT of sport/dport: ":22", "*:22" or "22".
std::optional<std::uint16_t> parse_filter_port(std::string_view text);

}  // namespace sockit::tools
