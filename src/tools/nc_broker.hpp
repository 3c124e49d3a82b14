#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "net/result.hpp"
#include "net/socket.hpp"

namespace sockit::tools {

struct BrokerOptions {
  bool chat = false;  ///< ncat --chat: names, announcements, "<userN> " before each line
  /// Bytes that may wait for one client. While a client has more waiting, the broker reads
  /// from nobody (senders wait, nothing is lost); a client that stays over it for `max_stall`
  /// does not read and is dropped. A client's queue holds at most this plus one broadcast.
  std::size_t max_queued = 1 << 20;
  std::chrono::milliseconds max_stall{5000};
  std::size_t max_clients = 100;       ///< ncat's default; more wait in the listen queue
  std::size_t max_chat_line = 64 * 1024;  ///< a longer line is cut into lines of this size
  int input = 0;  ///< borrowed; its bytes go to every client ("<user0>" in chat)
};

struct BrokerSummary {
  int connections = 0;
  std::uint64_t received = 0;  ///< bytes read from clients and input
  int dropped = 0;             ///< clients dropped for not reading
};

/// ncat --broker: accepts clients on `listener` and sends whatever one of them sends to all the
/// others, and what `input` gives to all of them; the slowest reader sets the pace, up to
/// max_stall (see BrokerOptions). Client bytes are not written to our output
/// (ncat's broker does not either). Blocks for ever (until a failure of the listener or of the
/// event loop: a client's failure only drops that client). `notice` hears connections and
/// departures (-v); `warning` hears clients dropped for not reading (always printed).
net::Result<BrokerSummary> run_broker(const net::Socket& listener, const BrokerOptions& options,
                                      const std::function<void(const std::string&)>& notice,
                                      const std::function<void(const std::string&)>& warning);

}  // namespace sockit::tools
