#include "tools/sockets_bytecode.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <sys/socket.h>

#include <cstring>

namespace sockit::tools {
namespace {

using Code = std::vector<std::byte>;
constexpr std::size_t kOp = sizeof(inet_diag_bc_op);

// resize and memcpy: g++ 12 warns falsely (stringop-overflow) about insert() of a few bytes.
void append(Code& code, const void* bytes, std::size_t size) {
  const auto at = code.size();
  code.resize(at + size);
  if (size != 0) std::memcpy(code.data() + at, bytes, size);
}

void put_op(Code& code, int op, std::size_t yes, std::size_t no) {
  const inet_diag_bc_op value{static_cast<unsigned char>(op), static_cast<unsigned char>(yes),
                              static_cast<unsigned short>(no)};
  append(code, &value, kOp);
}

inet_diag_bc_op op_at(const Code& code, std::size_t at) {
  inet_diag_bc_op op;
  std::memcpy(&op, code.data() + at, kOp);
  return op;
}

std::size_t address_size(int family) { return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0; }

// A condition on one end's address and port: the op, the hostcond, the address.
Code host_condition(int op, const HostCondition& host) {
  const std::size_t size = kOp + sizeof(inet_diag_hostcond) + address_size(host.family);
  Code code;
  put_op(code, op, size, size + 4);
  inet_diag_hostcond cond{};
  cond.family = static_cast<__u8>(host.family);
  cond.prefix_len = static_cast<__u8>(host.prefix_length);
  cond.port = host.port;
  append(code, &cond, sizeof cond);
  append(code, host.address.data(), address_size(host.family));
  return code;
}

// A port comparison: the op, then an op whose `no` field carries the port.
Code port_comparison(int op, std::uint16_t port) {
  Code code;
  put_op(code, op, 2 * kOp, 2 * kOp + 4);
  put_op(code, 0, 0, port);
  return code;
}

// Sends the rejecting exits of `code` (jumps to its end + 4) `extra` bytes further: to the
// end + 4 of `code` followed by `extra` bytes. Every op's `yes` is its own size, so following
// `yes` visits each op (the kernel's audit requires the same).
void move_rejections(Code& code, std::size_t extra) {
  for (std::size_t at = 0; at < code.size();) {
    auto op = op_at(code, at);
    if (at + op.no == code.size() + 4) {
      op.no = static_cast<unsigned short>(op.no + extra);
      std::memcpy(code.data() + at, &op, kOp);
    }
    at += op.yes;
  }
}

bool bits_match(const std::uint8_t* address, const std::uint8_t* prefix, int bits) {
  const int bytes = bits / 8;
  if (std::memcmp(address, prefix, static_cast<std::size_t>(bytes)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (address[bytes] & mask) == (prefix[bytes] & mask);
}

struct Tuple {
  int family = 0;
  std::array<std::uint8_t, 16> source{}, destination{};
  int source_port = 0, destination_port = 0;
};

bool parse_address(int family, const std::string& text, std::array<std::uint8_t, 16>& out) {
  return ::inet_pton(family, text.c_str(), out.data()) == 1;
}

// inet_diag_bc_run's S_COND/D_COND case.
bool host_matches(const inet_diag_hostcond& cond, const std::uint8_t* prefix, const Tuple& t, bool source) {
  const int port = source ? t.source_port : t.destination_port;
  if (cond.port != -1 && cond.port != port) return false;
  const auto& address = source ? t.source : t.destination;
  if (cond.family != AF_UNSPEC && cond.family != t.family) {
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return t.family == AF_INET6 && cond.family == AF_INET && std::memcmp(address.data(), kMapped, 12) == 0 &&
           bits_match(address.data() + 12, prefix, cond.prefix_len);
  }
  return cond.prefix_len == 0 || bits_match(address.data(), prefix, cond.prefix_len);
}

}  // namespace

std::vector<std::byte> compile_filter(const FilterNode& node) {
  using Kind = FilterNode::Kind;
  switch (node.kind) {
    case Kind::kSource: return host_condition(INET_DIAG_BC_S_COND, node.host);
    case Kind::kDestination: return host_condition(INET_DIAG_BC_D_COND, node.host);
    case Kind::kSourcePortAtLeast: return port_comparison(INET_DIAG_BC_S_GE, node.port);
    case Kind::kSourcePortAtMost: return port_comparison(INET_DIAG_BC_S_LE, node.port);
    case Kind::kDestinationPortAtLeast: return port_comparison(INET_DIAG_BC_D_GE, node.port);
    case Kind::kDestinationPortAtMost: return port_comparison(INET_DIAG_BC_D_LE, node.port);
    case Kind::kNot: {
      // Accepted: on into a jump past the rejecting exit; rejected: lands just after it.
      Code code = compile_filter(node.children.at(0));
      put_op(code, INET_DIAG_BC_JMP, kOp, 2 * kOp);
      return code;
    }
    case Kind::kAnd:
    case Kind::kOr: {
      Code code = compile_filter(node.children.at(0));
      for (std::size_t i = 1; i < node.children.size(); ++i) {
        Code next = compile_filter(node.children[i]);
        if (node.kind == Kind::kAnd) {
          move_rejections(code, next.size());  // accepted: on into `next`
        } else {
          put_op(code, INET_DIAG_BC_JMP, kOp, next.size() + kOp);  // accepted: past `next`
        }
        append(code, next.data(), next.size());  // rejected: on into `next`
      }
      return code;
    }
  }
  return {};
}

bool bytecode_accepts(std::span<const std::byte> bytecode, const SocketEntry& e) {
  Tuple t;
  t.family = e.family;
  if (!parse_address(e.family, e.local_address, t.source) || !parse_address(e.family, e.remote_address, t.destination))
    return false;
  t.source_port = e.local_port;
  t.destination_port = e.remote_port;
  const auto* start = reinterpret_cast<const std::uint8_t*>(bytecode.data());
  long at = 0;
  const long size = static_cast<long>(bytecode.size());
  while (at < size) {
    if (at + static_cast<long>(kOp) > size) return false;
    inet_diag_bc_op op;
    std::memcpy(&op, start + at, kOp);
    bool yes = true;
    const auto operand = [&](std::size_t bytes) { return at + static_cast<long>(kOp + bytes) <= size; };
    switch (op.code) {
      case INET_DIAG_BC_NOP: break;
      case INET_DIAG_BC_JMP: yes = false; break;
      case INET_DIAG_BC_S_GE:
      case INET_DIAG_BC_S_LE:
      case INET_DIAG_BC_D_GE:
      case INET_DIAG_BC_D_LE: {
        if (!operand(kOp)) return false;
        inet_diag_bc_op port;
        std::memcpy(&port, start + at + kOp, kOp);
        const bool source = op.code == INET_DIAG_BC_S_GE || op.code == INET_DIAG_BC_S_LE;
        const int value = source ? t.source_port : t.destination_port;
        const bool at_least = op.code == INET_DIAG_BC_S_GE || op.code == INET_DIAG_BC_D_GE;
        yes = at_least ? value >= port.no : value <= port.no;
        break;
      }
      case INET_DIAG_BC_S_COND:
      case INET_DIAG_BC_D_COND: {
        if (!operand(sizeof(inet_diag_hostcond))) return false;
        inet_diag_hostcond cond;
        std::memcpy(&cond, start + at + kOp, sizeof cond);
        const auto bytes = address_size(cond.family);
        if (!operand(sizeof cond + bytes) || cond.prefix_len > 8 * bytes) return false;
        std::array<std::uint8_t, 16> prefix{};
        std::memcpy(prefix.data(), start + at + kOp + sizeof cond, bytes);
        yes = host_matches(cond, prefix.data(), t, op.code == INET_DIAG_BC_S_COND);
        break;
      }
      default: return false;
    }
    const int step = yes ? op.yes : op.no;
    if (step <= 0) return false;
    at += step;
  }
  return at == size;
}

}  // namespace sockit::tools
