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

/// Why a TCP connection was refused at accept: what counters and `refused` log lines are keyed by.
enum class ConnectionRefusal {
  max_conns,           ///< --max-conns connections are open already
  per_source,          ///< the source has its per-source number of connections open already
  rate,                ///< the source opened connections faster than its rate allows
  denied,              ///< the source's address is on a deny list or off an allow list
  out_of_descriptors,  ///< accept failed for want of descriptors (EMFILE/ENFILE) and the client was shed
};

inline constexpr std::size_t kConnectionRefusalKinds = 5;

/// A short name for counters and log lines: "max-conns", "per-source", "rate", "denied",
/// "out-of-descriptors".
std::string_view refusal_name(ConnectionRefusal reason) noexcept;

/// One per-connection event: the line the text log prints, and what the JSON log gives as fields
/// of its own (so that nobody has to take the prose apart).
struct ConnectionEvent {
  std::string event;                    ///< "connected", "closed" or "refused"
  std::string peer;                     ///< the client, as the model names it
  std::string text;                     ///< the whole line
  std::optional<std::size_t> requests;  ///< closed: requests answered
  std::string reason;                   ///< closed: why, when not simply done; refused: why
  std::optional<ConnectionRefusal> refusal;  ///< refused: the kind of reason
  Origin origin;                        ///< set by the model that logs it
};

/// "connected PEER".
ConnectionEvent connected_line(std::string_view peer);
/// "closed PEER after N request(s)", then " (REASON)" when `reason` is not empty.
ConnectionEvent closed_line(std::string_view peer, std::size_t requests, std::string_view reason);
/// "refused PEER: REASON", then " (DETAIL)" when `detail` is not empty (what only the log says).
ConnectionEvent refused_line(std::string_view peer, ConnectionRefusal kind, std::string_view reason,
                             std::string_view detail = {});
/// "refused PEER: N connection(s) already (--max-conns)".
ConnectionEvent refused_line(std::string_view peer, std::size_t max_conns);
/// "ERR refused: REASON" and `end_of_line`: what a text service's refused client reads
/// (Service::refusal_answer).
std::string refusal_line(std::string_view reason, std::string_view end_of_line);
/// A duration as a reason reads it: "2 s" for whole seconds, else "500 ms".
std::string duration_text(long long milliseconds);

}  // namespace sockit::serve
