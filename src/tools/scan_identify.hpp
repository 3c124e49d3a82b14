#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace sockit::tools {

/// What a TCP port silent for a while is sent: an HTTP server answers it with a status line,
/// an echo server sends it back.
inline constexpr std::string_view kBannerProbe = "HEAD / HTTP/1.0\r\n\r\n";
/// The most a banner read keeps (an HTTP reply's head must fit, for its Server header).
inline constexpr std::size_t kBannerReadMax = 2048;

/// What a port's first bytes say about the service behind it.
struct Identified {
  std::string service;  ///< "echo", "daytime", "time", "chargen", "http"; "" when unknown
  std::string server;   ///< http: the Server header's value
  std::string banner;   ///< the bytes to show: the first line without its line end (time: its 4 bytes), at most kBannerMax
};

/// True when `received` says enough to stop reading: EOF, the size cap, a whole first line
/// (unprobed), or after kBannerProbe a whole HTTP head or the probe back in full.
bool banner_complete(std::string_view received, bool probed, bool eof);

/// Names the service by what it sent: before any probe (`probed` false) a daytime line
/// (inetd's "Sun Nov 22 10:00:00 2026" or ISO 8601), RFC 868's 4 bytes then EOF, within a day
/// of `now`, or RFC 864's rotating printable pattern; after kBannerProbe, the probe sent back
/// (echo) or an `HTTP/1.x NNN` status line (http).
Identified identify_service(std::string_view received, bool probed, bool eof, std::chrono::system_clock::time_point now);

/// `bytes` as printable ASCII: `\\`, `\r`, `\n`, `\t` and `\xNN` for the rest.
std::string escape_banner(std::string_view bytes);

}  // namespace sockit::tools
