// Admission: who may connect to a service and how many at once, each refusal with its kind and
// reason; SourceCounts: a per-source table that a flood of sources cannot grow; Cidr and
// AccessRules: allow/deny lists, IPv4-mapped sources judged as IPv4.
#include "serve/admission.hpp"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <vector>

#include "serve/cidr.hpp"
#include "serve/source_count.hpp"

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;
using Clock = Admission::Clock;

net::Address at(std::string_view text) { return net::Address::parse(text).value(); }

Cidr cidr(std::string_view text) {
  std::string problem;
  auto parsed = Cidr::parse(text, problem);
  EXPECT_TRUE(parsed.has_value()) << text << ": " << problem;
  return parsed.value_or(Cidr{});
}

std::string cidr_problem(std::string_view text) {
  std::string problem;
  EXPECT_FALSE(Cidr::parse(text, problem).has_value()) << text;
  return problem;
}

ConnectionRefusal kind(const Ticket& ticket) { return ticket.refused().value().kind; }

TEST(Cidr, ParsesNetworksAndHostsOfBothFamilies) {
  EXPECT_EQ(cidr("10.0.0.0/8").to_string(), "10.0.0.0/8");
  EXPECT_EQ(cidr("127.0.0.2").to_string(), "127.0.0.2/32");
  EXPECT_EQ(cidr("2001:db8::/32").to_string(), "2001:db8::/32");
  EXPECT_EQ(cidr("::1").to_string(), "::1/128");
  EXPECT_EQ(cidr("0.0.0.0/0").to_string(), "0.0.0.0/0");
  // An IPv4-mapped network is the IPv4 network it stands for: sources are judged as IPv4.
  EXPECT_EQ(cidr("::ffff:10.1.0.0/112").to_string(), "10.1.0.0/16");
}

TEST(Cidr, RefusesWhatIsNoNetworkAndSaysWhy) {
  EXPECT_EQ(cidr_problem("10.0.0.1/8"), "10.0.0.1 has bits set past its /8 (a network is written with them clear)");
  EXPECT_EQ(cidr_problem("10.0.0.0/33"), "'33' is not a prefix length from 0 to 32");
  EXPECT_EQ(cidr_problem("::/129"), "'129' is not a prefix length from 0 to 128");
  EXPECT_EQ(cidr_problem("10.0.0.0/"), "'' is not a prefix length from 0 to 32");
  EXPECT_EQ(cidr_problem("10.0.0.0/-1"), "'-1' is not a prefix length from 0 to 32");
  EXPECT_EQ(cidr_problem("example.com"), "'example.com' is not a numeric IPv4 or IPv6 address");
  EXPECT_EQ(cidr_problem("10.1/16"), "'10.1' is not a numeric IPv4 or IPv6 address");
  EXPECT_EQ(cidr_problem(""), "'' is not a numeric IPv4 or IPv6 address");
}

TEST(Cidr, ContainsAddressesOfItsFamilyAndMappedOnesAsIpv4) {
  const auto net = cidr("127.0.0.0/30");
  EXPECT_TRUE(net.contains(at("127.0.0.3:1")));
  EXPECT_FALSE(net.contains(at("127.0.0.4:1")));
  EXPECT_TRUE(net.contains(at("[::ffff:127.0.0.2]:1")));
  EXPECT_FALSE(net.contains(at("[::1]:1")));
  EXPECT_TRUE(cidr("::1").contains(at("[::1]:9")));
  EXPECT_FALSE(cidr("::/0").contains(at("127.0.0.1:9"))) << "an IPv6 rule judges IPv6 sources only";
  EXPECT_TRUE(cidr("2001:db8:1::/48").contains(at("[2001:db8:1:ffff::1]:9")));
}

TEST(AccessRules, TheMostSpecificNetworkDecidesAndDenyWinsATie) {
  AccessRules rules{.allow = {cidr("10.0.0.0/8")}, .deny = {cidr("10.1.0.0/16")}};
  EXPECT_FALSE(rules.refusal(at("10.2.0.1:5")));
  EXPECT_EQ(rules.refusal(at("10.1.0.1:5")), "deny 10.1.0.0/16");
  EXPECT_EQ(rules.refusal(at("192.0.2.1:5")), "not on the allow list");

  AccessRules carve_out{.allow = {cidr("10.1.2.3")}, .deny = {cidr("0.0.0.0/0")}};
  EXPECT_FALSE(carve_out.refusal(at("10.1.2.3:5")));
  EXPECT_EQ(carve_out.refusal(at("10.1.2.4:5")), "deny 0.0.0.0/0");

  AccessRules tie{.allow = {cidr("127.0.0.0/8")}, .deny = {cidr("127.0.0.0/8")}};
  EXPECT_EQ(tie.refusal(at("127.0.0.1:5")), "deny 127.0.0.0/8");

  EXPECT_FALSE(AccessRules{}.refusal(at("203.0.113.9:5"))) << "no rules: everyone";
  AccessRules deny_only{.allow = {}, .deny = {cidr("::1")}};
  EXPECT_FALSE(deny_only.refusal(at("127.0.0.1:5"))) << "a deny list alone lets the rest in";
  EXPECT_EQ(deny_only.refusal(at("[::1]:5")), "deny ::1/128");
}

TEST(AccessRules, AnIpv4MappedSourceIsJudgedAsIpv4) {
  AccessRules rules{.allow = {}, .deny = {cidr("127.0.0.3")}};
  EXPECT_EQ(rules.refusal(at("[::ffff:127.0.0.3]:5")), "deny 127.0.0.3/32");
  EXPECT_FALSE(rules.refusal(at("[::ffff:127.0.0.2]:5")));
}

TEST(Admission, RefusesPastMaxConnsAndAdmitsAgainOnceAPlaceIsFree) {
  Admission admission(AdmissionRules{.max_conns = 2});
  auto a = admission.admit(at("127.0.0.1:1000"));
  auto b = admission.admit(at("127.0.0.1:1001"));
  ASSERT_TRUE(a.admitted() && b.admitted());
  auto c = admission.admit(at("127.0.0.1:1002"));
  ASSERT_FALSE(c.admitted());
  EXPECT_EQ(kind(c), ConnectionRefusal::max_conns);
  EXPECT_EQ(c.refused()->reason, "2 connections to this service already (max_conns)");
  EXPECT_EQ(admission.open(), 2u);
  a = Ticket();
  EXPECT_EQ(admission.open(), 1u);
  EXPECT_TRUE(admission.admit(at("127.0.0.1:1003")).admitted());
}

TEST(Admission, CountsEachSourceApartAndAnIpv6Slash64AsOne) {
  Admission admission(AdmissionRules{.per_source = 2});
  std::vector<Ticket> held;
  held.push_back(admission.admit(at("127.0.0.2:1")));
  held.push_back(admission.admit(at("[::ffff:127.0.0.2]:2")));  // the same source, mapped
  auto third = admission.admit(at("127.0.0.2:3"));
  ASSERT_FALSE(third.admitted());
  EXPECT_EQ(kind(third), ConnectionRefusal::per_source);
  EXPECT_EQ(third.refused()->reason, "2 connections from this address already (per_source)");
  EXPECT_TRUE(admission.admit(at("127.0.0.3:1")).admitted()) << "another address has places of its own";

  held.push_back(admission.admit(at("[2001:db8:0:1::1]:1")));
  held.push_back(admission.admit(at("[2001:db8:0:1::2]:1")));
  EXPECT_EQ(kind(admission.admit(at("[2001:db8:0:1:ffff::9]:1"))), ConnectionRefusal::per_source)
      << "one /64 is one source";
  EXPECT_TRUE(admission.admit(at("[2001:db8:0:2::1]:1")).admitted());
  for (const auto& ticket : held) EXPECT_TRUE(ticket.admitted());

  held.erase(held.begin());
  EXPECT_TRUE(admission.admit(at("127.0.0.2:4")).admitted()) << "a closed connection gives its place back";
}

TEST(Admission, RefusesASourceOverItsRateForTheCooldownThenAdmitsIt) {
  Admission admission(AdmissionRules{.rate = 2, .rate_cooldown = 10s});
  const auto t0 = Clock::now();
  const auto source = at("127.0.0.2:1");
  EXPECT_TRUE(admission.admit(source, t0).admitted());
  EXPECT_TRUE(admission.admit(source, t0).admitted());  // a second's worth at once
  auto third = admission.admit(source, t0);
  ASSERT_FALSE(third.admitted());
  EXPECT_EQ(kind(third), ConnectionRefusal::rate);
  EXPECT_EQ(third.refused()->reason, "over 2 connections a second from this address: refused for 10 s");
  EXPECT_TRUE(admission.admit(at("127.0.0.3:1"), t0).admitted()) << "another source has its own rate";
  EXPECT_FALSE(admission.admit(source, t0 + 5s).admitted()) << "cooling down, however slow it goes now";
  EXPECT_TRUE(admission.admit(source, t0 + 11s).admitted());
}

TEST(Admission, DeniedComesFirstAndNamesTheRuleForTheLogOnly) {
  Admission admission(AdmissionRules{.max_conns = 0, .access = {.allow = {}, .deny = {cidr("127.0.0.3")}}});
  auto denied = admission.admit(at("127.0.0.3:7"));
  EXPECT_EQ(kind(denied), ConnectionRefusal::denied);
  EXPECT_EQ(denied.refused()->reason, "address not allowed");
  EXPECT_EQ(denied.refused()->detail, "deny 127.0.0.3/32");
  EXPECT_EQ(kind(admission.admit(at("127.0.0.2:7"))), ConnectionRefusal::max_conns);
}

TEST(Admission, TheServerBudgetIsSharedByEveryService) {
  auto budget = std::make_shared<ConnectionBudget>(2);
  Admission echo(AdmissionRules{}, budget);
  Admission fib(AdmissionRules{}, budget);
  auto a = echo.admit(at("127.0.0.1:1"));
  auto b = fib.admit(at("127.0.0.1:2"));
  auto c = fib.admit(at("127.0.0.1:3"));
  ASSERT_FALSE(c.admitted());
  EXPECT_EQ(kind(c), ConnectionRefusal::max_conns);
  EXPECT_EQ(c.refused()->reason, "2 connections already (--max-conns)");
  EXPECT_EQ(budget->open(), 2u);
  budget->set_max(3);
  EXPECT_TRUE(echo.admit(at("127.0.0.1:4")).admitted());
  EXPECT_EQ(budget->open(), 2u) << "the ticket of that connection was given back at once";
}

TEST(Admission, NewRulesApplyToNewConnectionsAndCountsGoOn) {
  Admission admission(AdmissionRules{.per_source = 3});
  std::vector<Ticket> held;
  for (int i = 0; i < 3; ++i) held.push_back(admission.admit(at("127.0.0.2:1")));
  admission.set_rules(AdmissionRules{.per_source = 2});
  for (const auto& ticket : held) EXPECT_TRUE(ticket.admitted()) << "open connections keep their places";
  EXPECT_EQ(kind(admission.admit(at("127.0.0.2:1"))), ConnectionRefusal::per_source);
  held.pop_back();
  EXPECT_EQ(kind(admission.admit(at("127.0.0.2:1"))), ConnectionRefusal::per_source) << "2 are still open";
  held.pop_back();
  EXPECT_TRUE(admission.admit(at("127.0.0.2:1")).admitted());
}

TEST(Admission, ATicketMovedKeepsOnePlace) {
  Admission admission(AdmissionRules{.max_conns = 1});
  auto first = admission.admit(at("127.0.0.1:1"));
  Ticket moved = std::move(first);
  EXPECT_EQ(admission.open(), 1u);
  Ticket again;
  again = std::move(moved);
  EXPECT_EQ(admission.open(), 1u);
  again = Ticket();
  EXPECT_EQ(admission.open(), 0u);
}

SourceKey nth_source(std::uint32_t n) {
  return source_key(net::Address::parse(fmt::format("10.{}.{}.{}:1", (n >> 16) & 255, (n >> 8) & 255, n & 255)).value());
}

TEST(SourceCounts, AFloodOfSourcesNeitherGrowsTheTableNorFreesATrackedSource) {
  SourceCounts counts(64, /*seed=*/42);
  const auto bytes = counts.memory_bytes();
  const auto tracked = source_key(at("127.0.0.2:1"));
  ASSERT_TRUE(counts.acquire(tracked, 2));
  ASSERT_TRUE(counts.acquire(tracked, 2));
  std::size_t overflowed = 0;
  for (std::uint32_t n = 0; n < 100'000; ++n)
    if (const auto slot = counts.acquire(nth_source(n), 1'000'000); slot && *slot == SourceCounts::kOverflow) ++overflowed;
  EXPECT_EQ(counts.memory_bytes(), bytes);
  EXPECT_GT(overflowed, 99'000u) << "past 64 slots, the flood shares the overflow slot";
  EXPECT_EQ(counts.open(tracked), 2u);
  EXPECT_FALSE(counts.acquire(tracked, 2)) << "still held to its limit";
}

net::Address nth_address(std::uint32_t n) {
  return at(fmt::format("10.{}.{}.{}:1", (n >> 16) & 255, (n >> 8) & 255, n & 255));
}

// The per-source tables of a service under 100,000 sources: a fixed size, stated, and what they
// counted of the flood's connections gone once those closed and their buckets went idle.
TEST(Admission, ManySourcesNeitherGrowItsTablesNorOutliveTheirConnections) {
  Admission admission(AdmissionRules{.per_source = 2, .rate = 5, .rate_cooldown = 1s});
  const auto bytes = admission.memory_bytes();
  EXPECT_GT(bytes, 0u);
  EXPECT_LE(bytes, 4096u * (20 + 48)) << "docs/config.md states this bound";
  const auto flood = Clock::now();
  std::vector<Ticket> held;  // the flood's connections, all open at once
  for (std::uint32_t n = 0; n < 100'000; ++n) {
    auto ticket = admission.admit(nth_address(n), flood);
    if (ticket.admitted()) held.push_back(std::move(ticket));
  }
  EXPECT_EQ(admission.memory_bytes(), bytes);
  EXPECT_GT(held.size(), 1000u) << "each source the table tracks has places of its own";
  EXPECT_LE(held.size(), 4096u + 2) << "the sources past the table share the overflow slot's 2";
  held.clear();
  EXPECT_EQ(admission.open(), 0u);

  // A minute on: each source has its own places and its own rate again, the flood's included.
  const auto later = flood + 1min;
  for (const auto* source : {"127.0.0.2:1", "10.0.0.7:1"}) {
    std::vector<Ticket> two;
    for (int i = 0; i < 2; ++i) {
      two.push_back(admission.admit(at(source), later));
      ASSERT_TRUE(two.back().admitted()) << source;
    }
    EXPECT_EQ(kind(admission.admit(at(source), later)), ConnectionRefusal::per_source) << source;
  }
  EXPECT_EQ(admission.memory_bytes(), bytes);
}

TEST(SourceCounts, ReleaseGivesBackTheSlotAcquireGave) {
  SourceCounts counts(8, /*seed=*/7);
  const auto a = source_key(at("127.0.0.2:1"));
  const auto slot = counts.acquire(a, 1);
  ASSERT_TRUE(slot);
  EXPECT_FALSE(counts.acquire(a, 1));
  counts.release(*slot);
  EXPECT_EQ(counts.open(a), 0u);
  EXPECT_TRUE(counts.acquire(a, 1));
}

}  // namespace
}  // namespace sockit::serve
