#include "tools/sockets.hpp"

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace sockit::tools {
namespace {

struct StateName {
  int state;
  std::string_view ss_name;
  std::string_view filter_name;
};

// ss's names, in the kernel's numbering (include/net/tcp_states.h).
constexpr std::array<StateName, 12> kStates{{
    {TCP_ESTABLISHED, "ESTAB", "established"},
    {TCP_SYN_SENT, "SYN-SENT", "syn-sent"},
    {TCP_SYN_RECV, "SYN-RECV", "syn-recv"},
    {TCP_FIN_WAIT1, "FIN-WAIT-1", "fin-wait-1"},
    {TCP_FIN_WAIT2, "FIN-WAIT-2", "fin-wait-2"},
    {TCP_TIME_WAIT, "TIME-WAIT", "time-wait"},
    {TCP_CLOSE, "UNCONN", "closed"},
    {TCP_CLOSE_WAIT, "CLOSE-WAIT", "close-wait"},
    {TCP_LAST_ACK, "LAST-ACK", "last-ack"},
    {TCP_LISTEN, "LISTEN", "listen"},
    {TCP_CLOSING, "CLOSING", "closing"},
    {12, "NEW-SYN-RECV", "new-syn-recv"},
}};

}  // namespace

net::Result<std::vector<SocketEntry>> list_sockets(const SocketQuery& query) {
  auto entries = list_sockets_netlink(query);
  if (entries) return entries;
  return list_sockets_proc(query);
}

std::string_view socket_state_name(int state) {
  for (const auto& s : kStates)
    if (s.state == state) return s.ss_name;
  return "UNKNOWN";
}

std::optional<int> parse_socket_state(std::string_view name) {
  std::string wanted;
  for (char c : name) wanted += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (wanted == "estab") wanted = "established";
  if (wanted == "unconn" || wanted == "unconnected" || wanted == "close") wanted = "closed";
  if (wanted == "listening") wanted = "listen";
  for (const auto& s : kStates)
    if (s.filter_name == wanted) return s.state;
  return std::nullopt;
}

bool is_listening(const SocketEntry& e) { return (kListeningStates & state_bit(e.state)) != 0; }

}  // namespace sockit::tools
