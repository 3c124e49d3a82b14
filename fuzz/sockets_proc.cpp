// The socket lister's /proc/net parsers (tools/sockets_parse.hpp) on any text, seeded with
// tables captured from the kernel (seeds/capture_sockets.py) and mutated: the first byte names
// the table (0 tcp, 1 tcp6, 2 udp, 3 udp6, 4 unix), the rest is its text. A line the parser
// cannot read is skipped; it never throws and makes at most one entry per line.
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <sstream>

#include "support/check.hpp"
#include "tools/sockets_parse.hpp"

using namespace sockit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int table = data[0] % 5;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::istringstream in(text);
  std::vector<tools::SocketEntry> entries;
  if (table == 4) {
    tools::parse_proc_unix(in, entries);
  } else {
    const int family = table % 2 == 0 ? AF_INET : AF_INET6;
    tools::parse_proc_inet(in, table < 2 ? "tcp" : "udp", family, entries);
    for (const auto& e : entries) fuzz::require(e.family == family, "an entry of another family");
  }
  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  fuzz::require(entries.size() < lines, "more entries than lines after the header");
  return 0;
}
