#pragma once

#include <string>
#include <vector>

#include "tools/sockets.hpp"

namespace sockit::tools {

struct TableOptions {
  bool numeric = false;    ///< port numbers, not /etc/services names
  bool processes = false;  ///< the Process column (users:(("name",pid=N,fd=N)))
  bool netns = false;      ///< the Netns column first (SocketEntry::netns)
};

/// The table ss prints: a header, then a line per entry (and a TCP_INFO line after an entry that
/// has one), each column as wide as its widest cell. Built in one buffer so that it can be
/// written at once. Reads /etc/services unless `numeric`.
std::string format_socket_table(const std::vector<SocketEntry>& entries, const TableOptions& options);

}  // namespace sockit::tools
