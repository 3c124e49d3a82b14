// ss's filter parser (tools/sockets_filter.hpp) on any text: it answers a filter or an error
// naming a token of the input, within its nesting and length bounds, and the bytecode it
// makes stays inside the kernel's 16-bit jumps and runs to an answer on a sample socket.
#include <string>
#include <vector>

#include "support/check.hpp"
#include "tools/sockets_bytecode.hpp"
#include "tools/sockets_filter.hpp"

using namespace sockit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string> words{std::string(reinterpret_cast<const char*>(data), size)};
  const auto result = tools::parse_socket_filter(words);
  if (const auto* error = std::get_if<tools::FilterError>(&result)) {
    fuzz::require(!error->reason.empty(), "an error without a reason");
    fuzz::require(words[0].find(error->token) != std::string::npos, "an error naming a token not in the input");
    return 0;
  }
  const auto& filter = std::get<tools::SocketFilter>(result);
  fuzz::require(filter.bytecode.size() < 65536, "bytecode past the kernel's 16-bit jumps");
  fuzz::require(filter.bytecode.size() % 4 == 0, "bytecode not in 4-byte ops");
  tools::SocketEntry e;
  e.netid = "tcp";
  e.family = AF_INET6;
  e.local_address = "::ffff:127.0.0.1";
  e.local_port = 22;
  e.remote_address = "::1";
  e.remote_port = 40000;
  (void)tools::bytecode_accepts(filter.bytecode, e);
  return 0;
}
