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

class Table {
 public:
  Table(const std::vector<SocketEntry>& entries, const TableOptions& options)
      : entries_(entries), options_(options), names_(options.numeric) {}

  // Two passes over the entries, the first to measure each column, the second to write: cells
  // are formatted twice, which costs less than keeping 20,000 rows of them (page faults).
  std::string format() {
    std::array<std::size_t, kColumns> width{};
    std::string scratch;
    for (std::size_t row = 0; row <= entries_.size(); ++row)
      for (std::size_t c = 0; c < kColumns; ++c) {
        scratch.clear();
        write_cell(scratch, row, Column(c));
        width[c] = std::max(width[c], scratch.size());
      }
    std::size_t line = 0;
    for (auto w : width) line += w + 1;
    std::string out;
    out.reserve((entries_.size() + 1) * line);
    const auto left = [&](std::size_t row, Column c) {
      const auto at = out.size();
      write_cell(out, row, c);
      out.append(width[c] - (out.size() - at) + 1, ' ');
    };
    const auto right = [&](std::size_t row, Column c) {
      scratch.clear();
      write_cell(scratch, row, c);
      out.append(width[c] - scratch.size(), ' ');
      out += scratch;
      out.push_back(' ');
    };
    for (std::size_t row = 0; row <= entries_.size(); ++row) {
      if (options_.netns) left(row, kNetns);
      left(row, kNetid);
      left(row, kState);
      right(row, kRecvQ);
      right(row, kSendQ);
      left(row, kLocal);
      left(row, kPeer);
      write_cell(out, row, kProcess);
      out.push_back('\n');
      if (row > 0 && entries_[row - 1].tcp_info) {
        const auto& t = *entries_[row - 1].tcp_info;
        fmt::format_to(std::back_inserter(out), "\t rtt:{:.3f}/{:.3f} cwnd:{} mss:{} retrans:{}/{}\n", t.rtt_ms,
                       t.rttvar_ms, t.cwnd, t.mss, t.retransmits, t.total_retransmits);
      }
    }
    return out;
  }

 private:
  // Row 0 is the header; row i > 0 is entries_[i - 1].
  void write_cell(std::string& out, std::size_t row, Column column) {
    static constexpr std::array<std::string_view, kColumns> kHeader{
        "Netns", "Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "Process"};
    if (row == 0) {
      if (column != kProcess || options_.processes) out += kHeader[column];
      return;
    }
    const auto& e = entries_[row - 1];
    switch (column) {
      case kNetns: out += e.netns; break;
      case kNetid: out += e.netid; break;
      case kState: out += socket_state_name(e.state); break;
      case kRecvQ: PortNames::append_number(out, e.recv_q); break;
      case kSendQ: PortNames::append_number(out, e.send_q); break;
      case kLocal: append_endpoint(out, names_, e, true); break;
      case kPeer: append_endpoint(out, names_, e, false); break;
      case kProcess:
        if (options_.processes) append_users(out, e);
        break;
      case kColumns: break;
    }
  }

  const std::vector<SocketEntry>& entries_;
  const TableOptions& options_;
  PortNames names_;
};

}  // namespace

std::string format_socket_table(const std::vector<SocketEntry>& entries, const TableOptions& options) {
  return Table(entries, options).format();
}

}  // namespace sockit::tools
