#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::serve {

/// The wording of the per-connection log lines, shared by every model so that the same event
/// reads the same whichever model served it. Pure functions: they format, they never log.

/// The listener a connection came in on, as the JSON log names it: its service and port (0 for
/// a Unix socket). Empty when a log line belongs to no listener.
struct Origin {
  std::string_view service;  ///< the Service's name(), which outlives every connection
  std::uint16_t port = 0;
};

/// One per-connection event: the line the text log prints, and what the JSON log gives as fields
/// of its own (so that nobody has to take the prose apart).
struct ConnectionEvent {
  std::string event;                    ///< "connected", "closed" or "refused"
  std::string peer;                     ///< the client, as the model names it
  std::string text;                     ///< the whole line
  std::optional<std::size_t> requests;  ///< closed: requests answered
  std::string reason;                   ///< closed: why, when not simply done; refused: why
  Origin origin;                        ///< set by the model that logs it
};

/// "connected PEER".
ConnectionEvent connected_line(std::string_view peer);
/// "closed PEER after N request(s)", then " (REASON)" when `reason` is not empty.
ConnectionEvent closed_line(std::string_view peer, std::size_t requests, std::string_view reason);
/// "refused PEER: N connection(s) already (--max-conns)".
ConnectionEvent refused_line(std::string_view peer, std::size_t max_conns);
/// A duration as a reason reads it: "2 s" for whole seconds, else "500 ms".
std::string duration_text(long long milliseconds);

}  // namespace sockit::serve
