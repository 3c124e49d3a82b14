#include "tools/sockets_table.hpp"

#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>

namespace sockit::tools {
namespace {

// Port names from /etc/services, looked up once each (getservbyport reads the file every call).
class PortNames {
 public:
  explicit PortNames(bool numeric) : numeric_(numeric) {}

  void append(std::string& out, std::uint16_t port, bool udp) {
    if (port == 0) return out.push_back('*');
    if (numeric_) return append_number(out, port);
    auto [it, added] = names_.try_emplace(port | (udp ? 0x10000u : 0u));
    if (added) {
      const servent* s = ::getservbyport(htons(port), udp ? "udp" : "tcp");
      it->second = s ? std::string(s->s_name) : fmt::format_int(port).str();
    }
    out += it->second;
  }

  static void append_number(std::string& out, std::uint64_t n) {
    const fmt::format_int text(n);
    out.append(text.data(), text.size());
  }

 private:
  bool numeric_;
  std::unordered_map<std::uint32_t, std::string> names_;  // key: port, | 0x10000 for UDP
};

void append_endpoint(std::string& out, PortNames& names, const SocketEntry& e, bool local) {
  if (e.family == AF_UNIX) {
    if (!local) return out.append("* "), PortNames::append_number(out, e.remote_inode);
    out += e.local_address.empty() ? std::string_view("*") : std::string_view(e.local_address);
    out.push_back(' ');
    return PortNames::append_number(out, e.inode);
  }
  const std::string& address = local ? e.local_address : e.remote_address;
  if (e.family == AF_INET6) {
    out.push_back('[');
    out += address;
    out += "]:";
  } else {
    out += address;
    out.push_back(':');
  }
  names.append(out, local ? e.local_port : e.remote_port, e.netid == "udp");
}

void append_users(std::string& out, const SocketEntry& e) {
  if (e.owners.empty()) return;
  out += "users:(";
  for (std::size_t i = 0; i < e.owners.size(); ++i)
    fmt::format_to(std::back_inserter(out), "{}(\"{}\",pid={},fd={})", i ? "," : "", e.owners[i].name,
                   e.owners[i].pid, e.owners[i].fd);
  out.push_back(')');
}

enum Column : std::size_t { kNetns, kNetid, kState, kRecvQ, kSendQ, kLocal, kPeer, kProcess, kColumns };

// A cell's text lives in one arena string; a cell is where and how long.
struct Cell {
  std::uint32_t at;
  std::uint32_t size;
};

}  // namespace

std::string format_socket_table(const std::vector<SocketEntry>& entries, const TableOptions& options) {
  PortNames names(options.numeric);
  std::string arena;
  arena.reserve(entries.size() * 64);
  std::vector<std::array<Cell, kColumns>> rows(entries.size() + 1);
  const auto cell = [&](std::size_t row, Column column, auto&& write) {
    const auto at = arena.size();
    write(arena);
    rows[row][column] = {static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(arena.size() - at)};
  };
  const std::array<std::string_view, kColumns> header{
      "Netns", "Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port",
      options.processes ? "Process" : ""};
  for (std::size_t c = 0; c < kColumns; ++c) cell(0, Column(c), [&](std::string& out) { out += header[c]; });
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const auto row = i + 1;
    cell(row, kNetns, [&](std::string& out) { out += e.netns; });
    cell(row, kNetid, [&](std::string& out) { out += e.netid; });
    cell(row, kState, [&](std::string& out) { out += socket_state_name(e.state); });
    cell(row, kRecvQ, [&](std::string& out) { PortNames::append_number(out, e.recv_q); });
    cell(row, kSendQ, [&](std::string& out) { PortNames::append_number(out, e.send_q); });
    cell(row, kLocal, [&](std::string& out) { append_endpoint(out, names, e, true); });
    cell(row, kPeer, [&](std::string& out) { append_endpoint(out, names, e, false); });
    cell(row, kProcess, [&](std::string& out) {
      if (options.processes) append_users(out, e);
    });
  }
  std::array<std::size_t, kColumns> width{};
  for (const auto& r : rows)
    for (std::size_t c = 0; c < kColumns; ++c) width[c] = std::max<std::size_t>(width[c], r[c].size);

  std::string out;
  std::size_t line = 0;
  for (auto w : width) line += w + 1;
  out.reserve(rows.size() * line);
  const auto put = [&](const Cell& c, std::size_t w, bool right) {
    const std::string_view text(arena.data() + c.at, c.size);
    if (right) out.append(w - c.size, ' ');
    out += text;
    if (!right) out.append(w - c.size, ' ');
  };
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto& r = rows[k];
    if (options.netns) put(r[kNetns], width[kNetns], false), out.push_back(' ');
    put(r[kNetid], width[kNetid], false), out.push_back(' ');
    put(r[kState], width[kState], false), out.push_back(' ');
    put(r[kRecvQ], width[kRecvQ], true), out.push_back(' ');
    put(r[kSendQ], width[kSendQ], true), out.push_back(' ');
    put(r[kLocal], width[kLocal], false), out.push_back(' ');
    put(r[kPeer], width[kPeer], false), out.push_back(' ');
    out.append(arena, r[kProcess].at, r[kProcess].size);
    out.push_back('\n');
    if (k > 0 && entries[k - 1].tcp_info) {
      const auto& t = *entries[k - 1].tcp_info;
      fmt::format_to(std::back_inserter(out), "\t rtt:{:.3f}/{:.3f} cwnd:{} mss:{} retrans:{}/{}\n", t.rtt_ms,
                     t.rttvar_ms, t.cwnd, t.mss, t.retransmits, t.total_retransmits);
    }
  }
  return out;
}

}  // namespace sockit::tools
