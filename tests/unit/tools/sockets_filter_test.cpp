// ss's filter words into states and inet_diag bytecode, run here the way the kernel runs it.
#include "tools/sockets_filter.hpp"

#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>
#include <string>
#include <vector>

#include "tools/sockets.hpp"
#include "tools/sockets_bytecode.hpp"
#include "tools/sockets_host.hpp"

namespace sockit::tools {
namespace {

SocketFilter parsed(std::vector<std::string> words) {
  auto result = parse_socket_filter(words);
  if (const auto* error = std::get_if<FilterError>(&result))
    ADD_FAILURE() << "refused at '" << error->token << "': " << error->reason;
  return std::get_if<SocketFilter>(&result) ? std::get<SocketFilter>(result) : SocketFilter{};
}

FilterError refused(std::vector<std::string> words) {
  auto result = parse_socket_filter(words);
  EXPECT_TRUE(std::holds_alternative<FilterError>(result));
  return std::holds_alternative<FilterError>(result) ? std::get<FilterError>(result) : FilterError{};
}

SocketEntry tcp(std::string local, std::uint16_t local_port, std::string peer, std::uint16_t peer_port) {
  SocketEntry e;
  e.netid = "tcp";
  e.family = local.find(':') == std::string::npos ? AF_INET : AF_INET6;
  e.state = TCP_ESTABLISHED;
  e.local_address = std::move(local);
  e.local_port = local_port;
  e.remote_address = std::move(peer);
  e.remote_port = peer_port;
  return e;
}

// The kernel's inet_diag_bc_audit (net/ipv4/inet_diag.c): what it refuses, it answers EINVAL.
bool valid_target(std::span<const std::byte> code, long remaining) {
  long len = static_cast<long>(code.size());
  std::size_t at = 0;
  while (len > 0) {
    if (remaining == len) return true;
    if (remaining > len) return false;
    inet_diag_bc_op op;
    std::memcpy(&op, code.data() + at, sizeof op);
    if (op.yes < 4 || op.yes & 3) return false;
    len -= op.yes;
    at += op.yes;
  }
  return false;
}

bool kernel_would_accept(std::span<const std::byte> code) {
  long len = static_cast<long>(code.size());
  std::size_t at = 0;
  while (len > 0) {
    if (len < 4) return false;
    inet_diag_bc_op op;
    std::memcpy(&op, code.data() + at, sizeof op);
    long min_len = sizeof op;
    switch (op.code) {
      case INET_DIAG_BC_S_COND:
      case INET_DIAG_BC_D_COND: {
        if (len < min_len + static_cast<long>(sizeof(inet_diag_hostcond))) return false;
        inet_diag_hostcond cond;
        std::memcpy(&cond, code.data() + at + sizeof op, sizeof cond);
        const long address = cond.family == AF_INET ? 4 : cond.family == AF_INET6 ? 16 : cond.family == 0 ? 0 : -1;
        if (address < 0) return false;
        min_len += sizeof cond + address;
        if (len < min_len || cond.prefix_len > 8 * address) return false;
        break;
      }
      case INET_DIAG_BC_S_GE:
      case INET_DIAG_BC_S_LE:
      case INET_DIAG_BC_D_GE:
      case INET_DIAG_BC_D_LE:
        min_len += sizeof op;
        if (len < min_len) return false;
        break;
      case INET_DIAG_BC_JMP:
      case INET_DIAG_BC_NOP: break;
      default: return false;
    }
    if (op.code != INET_DIAG_BC_NOP) {
      if (op.no < min_len || op.no > len + 4 || op.no & 3) return false;
      if (op.no < len && !valid_target(code, len - op.no)) return false;
    }
    if (op.yes < min_len || op.yes > len + 4 || op.yes & 3) return false;
    at += op.yes;
    len -= op.yes;
  }
  return len == 0;
}

bool accepts(std::vector<std::string> words, const SocketEntry& e) {
  const auto filter = parsed(std::move(words));
  EXPECT_TRUE(kernel_would_accept(filter.bytecode));
  return bytecode_accepts(filter.bytecode, e);
}

struct HostCase {
  const char* text;
  int family, prefix_length, port;
};

TEST(SocketFilterHost, ReadsEachFormSsTakes) {
  for (const auto& c : {HostCase{"*", 0, 0, -1}, HostCase{":22", 0, 0, 22}, HostCase{"*:22", 0, 0, 22},
                        HostCase{"127.0.0.1", AF_INET, 32, -1}, HostCase{"10.0.0.0/8", AF_INET, 8, -1},
                        HostCase{"10.0.0.0/8:80", AF_INET, 8, 80}, HostCase{"127.0.0.1:*", AF_INET, 32, -1},
                        HostCase{"::1", AF_INET6, 128, -1}, HostCase{"fe80::/10", AF_INET6, 10, -1},
                        HostCase{"[::1]:22", AF_INET6, 128, 22}, HostCase{"[fe80::]/10:22", AF_INET6, 10, 22},
                        HostCase{"[fe80::/10]:22", AF_INET6, 10, 22}, HostCase{"[::ffff:1.2.3.4]", AF_INET6, 128, -1}}) {
    HostCondition host;
    ASSERT_TRUE(parse_filter_host(c.text, host)) << c.text;
    EXPECT_EQ(host.family, c.family) << c.text;
    EXPECT_EQ(host.prefix_length, c.prefix_length) << c.text;
    EXPECT_EQ(host.port, c.port) << c.text;
  }
}

TEST(SocketFilterHost, RefusesWhatIsNotAnAddress) {
  for (const char* text : {"localhost", "1.2.3", "[::1", "[127.0.0.1]", "::1]:22", "1.2.3.4:", "1.2.3.4:65536",
                           "1.2.3.4/", "[::1]/129", "[::1/64]/64", "[::1]x", "1.2.3.4:22:33"}) {
    HostCondition host;
    EXPECT_FALSE(parse_filter_host(text, host)) << text;
  }
  EXPECT_EQ(parse_filter_port(":22"), 22);
  EXPECT_EQ(parse_filter_port("*:22"), 22);
  EXPECT_EQ(parse_filter_port("22"), 22);
  EXPECT_FALSE(parse_filter_port(":-1"));
  EXPECT_FALSE(parse_filter_port(":ssh"));
  EXPECT_FALSE(parse_filter_port(""));
}

TEST(SocketFilterStates, StateWordsMakeTheSetAndExcludeStartsFromAll) {
  EXPECT_EQ(parsed({"state", "established"}).states, state_bit(TCP_ESTABLISHED));
  EXPECT_EQ(parsed({"state", "listening", "state", "time-wait"}).states,
            state_bit(TCP_LISTEN) | state_bit(TCP_TIME_WAIT));
  EXPECT_EQ(parsed({"exclude", "listening"}).states, kAllStates & ~state_bit(TCP_LISTEN));
  EXPECT_FALSE(parsed({}).states);
  EXPECT_TRUE(parsed({}).bytecode.empty());
}

TEST(SocketFilterStates, GroupsAreSsGroups) {
  const auto connected = *parse_state_set("connected");
  EXPECT_FALSE(connected & state_bit(TCP_LISTEN));
  EXPECT_FALSE(connected & state_bit(TCP_CLOSE));
  EXPECT_TRUE(connected & state_bit(TCP_SYN_SENT));
  EXPECT_TRUE(connected & state_bit(TCP_TIME_WAIT));
  EXPECT_EQ(*parse_state_set("synchronized"), connected & ~state_bit(TCP_SYN_SENT));
  EXPECT_EQ(*parse_state_set("bucket"), state_bit(TCP_SYN_RECV) | state_bit(TCP_TIME_WAIT));
  EXPECT_EQ(*parse_state_set("big") & state_bit(TCP_TIME_WAIT), 0u);
  EXPECT_EQ(*parse_state_set("all"), kAllStates);
  EXPECT_EQ(*parse_state_set("ESTAB"), state_bit(TCP_ESTABLISHED));
  EXPECT_EQ(*parse_state_set("unconnected"), state_bit(TCP_CLOSE));
}

TEST(SocketFilterStates, AnUnknownStateIsRefusedByName) {
  const auto error = refused({"state", "sleepy"});
  EXPECT_EQ(error.token, "sleepy");
}

TEST(SocketFilterExpression, PortEqualityAndComparisons) {
  const auto e = tcp("127.0.0.1", 22, "127.0.0.1", 40000);
  EXPECT_TRUE(accepts({"sport", "=", ":22"}, e));
  EXPECT_FALSE(accepts({"sport = :23"}, e));
  EXPECT_TRUE(accepts({"sport != :23"}, e));
  EXPECT_TRUE(accepts({"dport > :1024"}, e));
  EXPECT_FALSE(accepts({"dport > :40000"}, e));
  EXPECT_TRUE(accepts({"dport >= :40000"}, e));
  EXPECT_TRUE(accepts({"dport <= :40000"}, e));
  EXPECT_FALSE(accepts({"dport < :40000"}, e));
  EXPECT_TRUE(accepts({"sport eq 22"}, e));
  EXPECT_TRUE(accepts({"dport", "gt", "*:1024"}, e));
}

TEST(SocketFilterExpression, AddressesPrefixesAndMappedIpv4) {
  const auto e = tcp("10.1.2.3", 5000, "192.168.1.9", 80);
  EXPECT_TRUE(accepts({"src 10.0.0.0/8"}, e));
  EXPECT_FALSE(accepts({"src 11.0.0.0/8"}, e));
  EXPECT_TRUE(accepts({"dst = 192.168.1.9:80"}, e));
  EXPECT_FALSE(accepts({"dst 192.168.1.9:81"}, e));
  EXPECT_TRUE(accepts({"dst *:80"}, e));
  EXPECT_TRUE(accepts({"dst :80"}, e));
  EXPECT_TRUE(accepts({"src *"}, e));
  EXPECT_FALSE(accepts({"src ::1"}, e));
  EXPECT_TRUE(accepts({"src != 127.0.0.1"}, e));
  const auto mapped = tcp("::ffff:10.1.2.3", 5000, "::1", 22);
  EXPECT_TRUE(accepts({"src 10.0.0.0/8"}, mapped));  // the kernel matches IPv4 in IPv4-mapped IPv6
  EXPECT_TRUE(accepts({"dst [::1]:22"}, mapped));
  EXPECT_TRUE(accepts({"dst ::1/128"}, mapped));
  EXPECT_TRUE(accepts({"dst [::]/0:22"}, mapped));
  EXPECT_FALSE(accepts({"dst [::1]:23"}, mapped));
}

TEST(SocketFilterExpression, NotBindsTighterThanAndTighterThanOr) {
  const auto e = tcp("127.0.0.1", 1, "127.0.0.1", 9);
  // "sport = :2 and dport = :3 or sport = :1": true only as (a and b) or c.
  EXPECT_TRUE(accepts({"sport = :2 and dport = :3 or sport = :1"}, e));
  EXPECT_TRUE(accepts({"sport = :1 or sport = :2 and dport = :3"}, e));
  EXPECT_FALSE(accepts({"( sport = :1 or sport = :2 ) and dport = :3"}, e));
  EXPECT_FALSE(accepts({"not sport = :1 or dport = :3"}, e));
  EXPECT_TRUE(accepts({"not ( sport = :2 or dport = :3 )"}, e));
  EXPECT_TRUE(accepts({"! ! sport = :1"}, e));
  EXPECT_TRUE(accepts({"sport = :1 dport = :9"}, e));  // no operator: and
  EXPECT_FALSE(accepts({"sport = :1 dport = :8"}, e));
  EXPECT_TRUE(accepts({"sport = :5 || sport = :6 || sport = :1"}, e));
  EXPECT_FALSE(accepts({"sport = :1 && dport = :9 && src 10.0.0.1"}, e));
}

TEST(SocketFilterExpression, OperatorsNeedNoSpaces) {
  const auto e = tcp("127.0.0.1", 1, "127.0.0.1", 2000);
  EXPECT_TRUE(accepts({"dport>=:1024"}, e));
  EXPECT_TRUE(accepts({"!(sport=:2)"}, e));
  EXPECT_TRUE(accepts({"(sport", "=", ":1)", "and", "(dport!=:1)"}, e));
}

TEST(SocketFilterExpression, StatesThenExpression) {
  const auto filter = parsed({"state", "connected", "dport = :22"});
  EXPECT_EQ(filter.states, parse_state_set("connected"));
  EXPECT_FALSE(filter.bytecode.empty());
}

TEST(SocketFilterErrors, NameTheOffendingToken) {
  EXPECT_EQ(refused({"sport = :99999"}).token, ":99999");
  EXPECT_EQ(refused({"sport = :22 )"}).token, ")");
  EXPECT_EQ(refused({"( sport = :22"}).token, "");
  EXPECT_EQ(refused({"src"}).token, "");
  EXPECT_EQ(refused({"frobnicate"}).token, "frobnicate");
  EXPECT_EQ(refused({"src 300.1.1.1"}).token, "300.1.1.1");
  EXPECT_EQ(refused({"src 10.0.0.0/33"}).token, "10.0.0.0/33");
  EXPECT_EQ(refused({"dst [::1"}).token, "[::1");
  EXPECT_EQ(refused({"sport ~ :22"}).token, "~");
  EXPECT_EQ(refused({"( )"}).token, ")");
  EXPECT_EQ(refused({"sport = :1 or"}).token, "");
  EXPECT_EQ(refused({"src < 10.0.0.1"}).token, "<");
  EXPECT_EQ(refused({"sport = :1 state established"}).token, "state");
}

TEST(SocketFilterErrors, NestingHasABound) {
  std::string ok, deep;
  for (int i = 0; i < kMaxFilterNesting; ++i) ok += "( ";
  ok += "sport = :1";
  for (int i = 0; i < kMaxFilterNesting; ++i) ok += " )";
  EXPECT_TRUE(accepts({ok}, tcp("127.0.0.1", 1, "127.0.0.1", 2)));
  EXPECT_FALSE(refused({"( " + ok + " )"}).reason.empty());
  std::string nots;
  for (int i = 0; i < 100000; ++i) nots += "! ";
  EXPECT_EQ(refused({nots + "sport = :1"}).token, "!");
}

TEST(SocketFilterErrors, LongInputHasABound) {
  std::string many = "sport = :1";
  for (int i = 0; i < 100000; ++i) many += " or sport = :1";
  EXPECT_NE(refused({many}).reason.find("tokens"), std::string::npos);
  // The longest accepted expression still fits the kernel's 16-bit jumps.
  std::string longest = "dst [::1]:1";
  while (longest.size() / 11 * 4 + 8 < kMaxFilterTokens) longest += " or dst [::1]:1";
  const auto filter = parsed({longest});
  EXPECT_LT(filter.bytecode.size(), 65536u);
  EXPECT_TRUE(kernel_would_accept(filter.bytecode));
}

}  // namespace
}  // namespace sockit::tools
