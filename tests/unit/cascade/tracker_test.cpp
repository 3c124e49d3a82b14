#include <gtest/gtest.h>

#include "cascade/protocol.hpp"
#include "cascade/redis_registry.hpp"
#include "cascade/tracker.hpp"
#include "net/byte_order.hpp"
#include "redis_test_server.hpp"
#include "session_test_support.hpp"
#include "test_support.hpp"

namespace sockit::cascade {
namespace {

using sockit::testing::offer;

using sockit::testing::bytes_of;
using sockit::testing::text_of;
using Clock = std::chrono::system_clock;

const Digest kTracked = sha256(bytes_of("tracked"));
const Digest kOther = sha256(bytes_of("other"));
constexpr std::uint32_t kLocal = 0x7f000001;

std::array<std::byte, kTrackerRequestSize> request(TrackerCommand command, Endpoint who, const Digest& hash = kTracked) {
  return encode_tracker_request({command, hash, who});
}

struct Answer {
  std::uint8_t status = 255;
  std::string message;
  std::vector<PeerEntry> peers;
  serve::Verdict verdict = serve::Verdict::keep_going;
};

// Where the registry keeps its swarms: every tracker test runs on both.
enum class Store { memory, redis };
void PrintTo(Store store, std::ostream* os) { *os << (store == Store::memory ? "memory" : "redis"); }

class TrackerTest : public ::testing::TestWithParam<Store> {
 protected:
  TrackerTest() {
    config_.allowed = {kTracked};
    config_.max_rate = 0;  // the tests ask faster than any client should; RequestRate has its own
  }

  // One redis-server for the suite's Redis tests, started by the first of them.
  static void TearDownTestSuite() {
    delete redis_;
    redis_ = nullptr;
  }
  void SetUp() override {
    if (GetParam() == Store::redis) {
      if (!sockit::testing::RedisTestServer::installed())
        GTEST_SKIP() << "redis-server is not installed (scripts/bootstrap installs it)";
      if (!redis_) redis_ = new sockit::testing::RedisTestServer();
      redis_->command({"FLUSHALL"});
    }
    use_caps(RegistryCaps{});
  }

  std::size_t entries(const Digest& hash) { return registry_->entries(hash).value(); }
  std::size_t swarms() { return registry_->swarm_count().value(); }

  std::unique_ptr<TrackerService> service() {
    return std::make_unique<TrackerService>(config_, registry_);
  }

  // Feeds `bytes` to a fresh session in pieces of `piece` bytes, then (with `eof`) an end of input.
  Answer exchange(std::span<const std::byte> bytes, std::size_t piece = 1000, bool eof = false,
                  std::string peer = "127.0.0.1:40000") {
    auto s = service();
    serve::SessionContext context;
    context.peer = std::move(peer);
    context.now = [this] { return now_; };
    auto session = s->new_session(context);
    serve::Output out;
    Answer a;
    for (std::size_t at = 0; at < bytes.size() && a.verdict == serve::Verdict::keep_going; at += piece)
      a.verdict = offer(*session, bytes.subspan(at, std::min(piece, bytes.size() - at)), out);
    if (eof && a.verdict == serve::Verdict::keep_going) a.verdict = session->end_of_input(out);
    if (out.size() >= 5) {
      a.status = std::to_integer<std::uint8_t>(out.bytes()[0]);
      const auto length = net::load_u32(out.bytes().data() + 1);
      EXPECT_EQ(out.size(), 5 + length) << "the body length must cover exactly the body";
      const auto body = out.bytes().subspan(5);
      if (a.status == 0) a.peers = decode_peer_entries(body);
      else a.message = text_of(body);
    }
    return a;
  }

  Answer subscribe(Endpoint who, std::string source = "127.0.0.1:40000") {
    return exchange(request(TrackerCommand::subscribe, who), 1000, false, std::move(source));
  }

  void use_caps(std::size_t swarms, std::size_t peers, std::size_t peers_per_ip) {
    RegistryCaps caps;
    caps.swarms = swarms;
    caps.peers = peers;
    caps.peers_per_ip = peers_per_ip;
    use_caps(caps);
  }
  void use_caps(RegistryCaps caps) {
    if (GetParam() == Store::memory) {
      registry_ = std::make_shared<TrackerRegistry>(caps, 42);
      return;
    }
    RedisSettings settings;
    settings.server = redis_->address();
    settings.timeout = std::chrono::seconds(2);
    registry_ = std::make_shared<RedisRegistry>(settings, "tracker-test", caps);
  }

  static sockit::testing::RedisTestServer* redis_;
  TrackerConfig config_;
  std::shared_ptr<SwarmRegistry> registry_;
  Clock::time_point now_ = Clock::time_point(std::chrono::seconds(1'700'000'000));
};

TEST_P(TrackerTest, SubscribeRegistersAndAnswersWithTheOthersNotTheRequester) {
  EXPECT_EQ(subscribe({kLocal, 1001}).status, 0);
  auto a = subscribe({kLocal, 1002});
  EXPECT_EQ(a.status, 0);
  EXPECT_EQ(a.verdict, serve::Verdict::close);
  ASSERT_EQ(a.peers.size(), 1u);
  EXPECT_EQ(a.peers[0].endpoint, (Endpoint{kLocal, 1001}));
  EXPECT_EQ(a.peers[0].last_seen, 1'700'000'000u);
  EXPECT_FALSE(a.peers[0].good);
}

TEST_P(TrackerTest, ListDoesNotRegister) {
  EXPECT_EQ(exchange(request(TrackerCommand::list, {kLocal, 1001})).status, 0);
  EXPECT_EQ(entries(kTracked), 0u);
  EXPECT_TRUE(subscribe({kLocal, 1002}).peers.empty());
}

TEST_P(TrackerTest, RequestSplitIntoSingleBytesIsStillAnswered) {
  subscribe({kLocal, 1001});
  auto a = exchange(request(TrackerCommand::list, {kLocal, 1002}), 1);
  EXPECT_EQ(a.status, 0);
  EXPECT_EQ(a.peers.size(), 1u);
}

TEST_P(TrackerTest, StaleEntriesAreLeftOutAndDeleted) {
  subscribe({kLocal, 1001});
  now_ += std::chrono::minutes(31);
  subscribe({kLocal, 1002});
  auto a = exchange(request(TrackerCommand::list, {kLocal, 1003}));
  ASSERT_EQ(a.peers.size(), 1u);
  EXPECT_EQ(a.peers[0].endpoint.port, 1002);
  EXPECT_EQ(entries(kTracked), 1u);
}

TEST_P(TrackerTest, ResubscribingRefreshesLastSeen) {
  subscribe({kLocal, 1001});
  now_ += std::chrono::minutes(20);
  subscribe({kLocal, 1001});
  now_ += std::chrono::minutes(20);
  auto a = exchange(request(TrackerCommand::list, {kLocal, 1003}));
  ASSERT_EQ(a.peers.size(), 1u);
}

TEST_P(TrackerTest, AtMostTwentyEntriesGoodOnesFirst) {
  config_.good_ips = {0x0a000005};
  config_.ban_private = false;
  config_.trust = TrackerTrust::message;  // 7001 below is registered on someone's behalf
  use_caps(100, 100, 64);
  for (std::uint16_t port = 1; port <= 30; ++port) subscribe({kLocal, port});
  subscribe({0x0a000005, 7000}, "10.0.0.5:5555");  // good: on the list, from its own address
  subscribe({0x0a000005, 7001}, "127.0.0.1:5555");  // registered on its behalf: not good
  auto a = exchange(request(TrackerCommand::list, {kLocal, 9999}));
  ASSERT_EQ(a.peers.size(), 20u);
  EXPECT_TRUE(a.peers[0].good);
  EXPECT_EQ(a.peers[0].endpoint.port, 7000);
  for (std::size_t i = 1; i < a.peers.size(); ++i) EXPECT_FALSE(a.peers[i].good);
}

TEST_P(TrackerTest, IPv4MappedSourceCountsAsThatAddress) {
  config_.good_ips = {kLocal};
  subscribe({kLocal, 1001}, "[::ffff:127.0.0.1]:5000");
  auto a = exchange(request(TrackerCommand::list, {kLocal, 1002}));
  ASSERT_EQ(a.peers.size(), 1u);
  EXPECT_TRUE(a.peers[0].good);
}

TEST_P(TrackerTest, ShortHeaderGetsStatusOne) {
  auto a = exchange(std::span<const std::byte>(request(TrackerCommand::list, {kLocal, 1})).first(10), 1000, true);
  EXPECT_EQ(a.status, 1);
  EXPECT_EQ(a.message, "short header: 10 of 16 bytes");
  EXPECT_EQ(a.verdict, serve::Verdict::close);
}

TEST_P(TrackerTest, WrongMagicGetsStatusOneAtOnce) {
  auto bytes = request(TrackerCommand::list, {kLocal, 1});
  bytes[0] = std::byte{'X'};
  auto a = exchange(std::span(bytes).first(4));
  EXPECT_EQ(a.status, 1);
  EXPECT_NE(a.message.find("wrong magic"), std::string::npos);
}

TEST_P(TrackerTest, VersionOtherThanOneGetsStatusOne) {
  auto bytes = request(TrackerCommand::list, {kLocal, 1});
  net::store_u32(bytes.data() + 4, 2);
  auto a = exchange(bytes);
  EXPECT_EQ(a.status, 1);
  EXPECT_EQ(a.message, "unsupported protocol version 2 (expected 1)");
}

TEST_P(TrackerTest, UnknownCommandGetsStatusOne) {
  auto bytes = request(TrackerCommand::list, {kLocal, 1});
  net::store_u32(bytes.data() + 8, 3);
  auto a = exchange(bytes);
  EXPECT_EQ(a.status, 1);
  EXPECT_EQ(a.message, "unknown command 3 (1 = list peers, 2 = subscribe)");
}

TEST_P(TrackerTest, BodyLengthOtherThan38GetsStatusOne) {
  auto bytes = request(TrackerCommand::list, {kLocal, 1});
  net::store_u32(bytes.data() + 12, 37);
  auto a = exchange(bytes);
  EXPECT_EQ(a.status, 1);
  EXPECT_EQ(a.message, "body length 37 (expected 38)");
}

TEST_P(TrackerTest, ShortBodyGetsStatusOne) {
  auto a = exchange(std::span<const std::byte>(request(TrackerCommand::list, {kLocal, 1})).first(30), 7, true);
  EXPECT_EQ(a.status, 1);
  EXPECT_EQ(a.message, "short body: 14 of 38 bytes");
}

TEST_P(TrackerTest, UntrackedHashGetsStatusOne) {
  auto a = exchange(request(TrackerCommand::subscribe, {kLocal, 1}, kOther));
  EXPECT_EQ(a.status, 1);
  EXPECT_EQ(a.message, "untracked cascade hash " + to_hex(kOther));
  EXPECT_EQ(entries(kOther), 0u);
}

TEST_P(TrackerTest, AllowAnyTracksEveryHash) {
  config_.allow_any = true;
  EXPECT_EQ(exchange(request(TrackerCommand::subscribe, {kLocal, 1}, kOther)).status, 0);
}

TEST_P(TrackerTest, PrivateAddressIsRefusedWhenBanned) {
  config_.ban_private = true;
  auto a = subscribe({0xc0a80001, 1}, "192.168.0.1:5555");
  EXPECT_EQ(a.status, 1);
  EXPECT_EQ(a.message, "private address 192.168.0.1 refused (ban-private)");
  EXPECT_EQ(subscribe({0x08080808, 1}, "8.8.8.8:5555").status, 0);
}

TEST_P(TrackerTest, AddressesNoOneCanReachAreNeitherStoredNorHandedOut) {
  const std::vector<std::pair<Endpoint, std::string>> cases{
      {{0x00000000, 0}, "cannot register 0.0.0.0:0: an address of 0.0.0.0/8, which is not routable"},
      {{0x00000001, 80}, "cannot register 0.0.0.1:80: an address of 0.0.0.0/8, which is not routable"},
      {{0xffffffff, 65535}, "cannot register 255.255.255.255:65535: the broadcast address"},
      {{0xe0000001, 80}, "cannot register 224.0.0.1:80: a multicast address"},
      {{0xf0000001, 80}, "cannot register 240.0.0.1:80: a reserved address (240.0.0.0/4)"},
      {{kLocal, 0}, "cannot register 127.0.0.1:0: port 0"},
  };
  for (const auto& [who, why] : cases) {
    auto a = subscribe(who);
    EXPECT_EQ(a.status, 1) << who.to_string();
    EXPECT_EQ(a.message, why);
  }
  EXPECT_EQ(entries(kTracked), 0u);
  EXPECT_TRUE(exchange(request(TrackerCommand::list, {kLocal, 1})).peers.empty());
}

TEST_P(TrackerTest, AComplaintLeavesThePeerToTheModelWhichPrefixesIt) {
  auto s = service();
  serve::SessionContext context;
  context.peer = "10.1.2.3:4444";
  context.now = [this] { return now_; };
  auto session = s->new_session(context);
  serve::Output out;
  auto bad = request(TrackerCommand::list, {kLocal, 1});
  bad[0] = std::byte{'X'};
  EXPECT_EQ(offer(*session, bad, out), serve::Verdict::close);
  ASSERT_EQ(session->complaints().size(), 1u);
  EXPECT_EQ(session->complaints()[0], "tracker request refused: wrong magic: a tracker request starts with CASC");
}

TEST_P(TrackerTest, SilenceBeforeAWholeRequestAnswersNothingYet) {
  auto a = exchange(std::span<const std::byte>(request(TrackerCommand::list, {kLocal, 1})).first(53));
  EXPECT_EQ(a.status, 255);
  EXPECT_EQ(a.verdict, serve::Verdict::keep_going);
}

TEST(TrackerConfig, ReadsTheCourseKeys) {
  const auto hash = to_hex(kTracked);
  auto config = parse_tracker_config(R"({"port": 8000, "allowedhashes": [")" + hash +
                                     R"("], "good-ips": ["1.2.3.4"], "ban-private": true})");
  ASSERT_TRUE(config) << config.error().what();
  EXPECT_EQ(config->port, 8000);
  EXPECT_TRUE(config->allowed.contains(kTracked));
  EXPECT_TRUE(config->good_ips.contains(0x01020304u));
  EXPECT_TRUE(config->ban_private);
}

TEST(TrackerConfig, BadValuesNameTheKey) {
  auto config = parse_tracker_config(R"({"allowedhashes": ["xyz"]})");
  ASSERT_FALSE(config);
  EXPECT_NE(std::string(config.error().what()).find("allowedhashes"), std::string::npos);
  EXPECT_FALSE(parse_tracker_config("not json"));
  EXPECT_FALSE(parse_tracker_config(R"({"port": 70000})"));
}

TEST(TrackerConfig, ErrorsNameTheFile) {
  auto config = parse_tracker_config("not json", "conf/tracker.json");
  ASSERT_FALSE(config);
  EXPECT_STREQ(config.error().what(),
               "parse tracker config on conf/tracker.json failed: Protocol error (not a JSON object)");
}

TEST(Protocol, TrackerRequestLayout) {
  auto bytes = encode_tracker_request({TrackerCommand::subscribe, kTracked, {0x01020304, 0x0506}});
  EXPECT_EQ(text_of(std::span(bytes).first(4)), "CASC");
  EXPECT_EQ(net::load_u32(bytes.data() + 4), 1u);
  EXPECT_EQ(net::load_u32(bytes.data() + 8), 2u);
  EXPECT_EQ(net::load_u32(bytes.data() + 12), 38u);
  EXPECT_EQ(net::load_u32(bytes.data() + 48), 0x01020304u);
  EXPECT_EQ(net::load_u16(bytes.data() + 52), 0x0506);
}

TEST(Protocol, PeerEntryLayoutIsTwelveBytesWithZeroReserved) {
  auto bytes = encode_peer_entries({{{0x7f000001, 80}, 0x01020304, true}});
  ASSERT_EQ(bytes.size(), 12u);
  EXPECT_EQ(bytes[10], std::byte{1});
  EXPECT_EQ(bytes[11], std::byte{0});
  EXPECT_EQ(net::load_u32(bytes.data() + 6), 0x01020304u);
}

TEST(Protocol, PrivateRanges) {
  EXPECT_TRUE(is_private_ipv4(*parse_ipv4("10.1.2.3")));
  EXPECT_TRUE(is_private_ipv4(*parse_ipv4("172.31.0.1")));
  EXPECT_FALSE(is_private_ipv4(*parse_ipv4("172.32.0.1")));
  EXPECT_TRUE(is_private_ipv4(*parse_ipv4("127.0.0.1")));
  EXPECT_FALSE(is_private_ipv4(*parse_ipv4("8.8.8.8")));
}

TEST_P(TrackerTest, APartRequestIsMidRequestAndALateOneGetsStatusOne) {
  auto s = service();
  auto session = s->new_session({});
  serve::Output out;
  EXPECT_FALSE(session->mid_request());  // a connection that sent nothing is merely idle
  const auto bytes = request(TrackerCommand::list, {kLocal, 1001});
  offer(*session, std::span(bytes).first(9), out);
  EXPECT_TRUE(session->mid_request());
  session->request_timed_out("request not complete within 5 s", out);
  ASSERT_GE(out.size(), 5u);
  EXPECT_EQ(std::to_integer<int>(out.bytes()[0]), 1);
  EXPECT_EQ(text_of(out.bytes().subspan(5)), "request not complete within 5 s");
  EXPECT_FALSE(session->mid_request());
}

// The tracker's trust (docs/hardening.md): by default a subscribe registers only the address it
// comes from, so nobody can point downloaders at someone else or keep a dead peer listed.
TEST_P(TrackerTest, TrustSourceRefusesRegisteringAnotherAddress) {
  auto a = subscribe({0x0a000009, 7000}, "127.0.0.1:5555");
  EXPECT_EQ(a.status, 1);
  EXPECT_EQ(a.message, "cannot register 10.0.0.9:7000 from 127.0.0.1: a peer registers only its own address");
  EXPECT_EQ(entries(kTracked), 0u);
  a = subscribe({0x0a000009, 7000}, "[::1]:5555");
  EXPECT_EQ(a.status, 1);
  EXPECT_EQ(a.message, "cannot register 10.0.0.9:7000 from [::1]:5555: a peer registers only its own address");
  EXPECT_EQ(subscribe({0x0a000009, 7000}, "10.0.0.9:5555").status, 0);
  EXPECT_EQ(entries(kTracked), 1u);
}

TEST_P(TrackerTest, ListingNeedsNoTrust) {
  subscribe({kLocal, 1001});
  EXPECT_EQ(exchange(request(TrackerCommand::list, {0x0a000009, 7000}), 1000, false, "192.0.2.1:5555").peers.size(),
            1u);
}

TEST_P(TrackerTest, TrustMessageRegistersAnyAddressAsTheCourseTrackerDoes) {
  config_.trust = TrackerTrust::message;
  EXPECT_EQ(subscribe({0x0a000009, 7000}, "127.0.0.1:5555").status, 0);
  EXPECT_EQ(entries(kTracked), 1u);
}

TEST_P(TrackerTest, AFullSwarmRefusesNewPeersButRefreshesAndEvictsNone) {
  use_caps(10, 3, 3);
  for (std::uint16_t port = 1; port <= 3; ++port) EXPECT_EQ(subscribe({kLocal, port}).status, 0);
  auto a = subscribe({kLocal, 4});
  EXPECT_EQ(a.status, 1);
  EXPECT_EQ(a.message, "swarm full: 3 peers already (--max-peers)");
  EXPECT_EQ(subscribe({kLocal, 2}).status, 0);  // a refresh
  EXPECT_EQ(entries(kTracked), 3u);
  now_ += std::chrono::minutes(31);  // every entry stale: the swarm makes room by sweeping them
  EXPECT_EQ(subscribe({kLocal, 4}).status, 0);
  EXPECT_EQ(entries(kTracked), 1u);
}

TEST_P(TrackerTest, AFloodFromOneAddressCannotCrowdOutTheOthers) {
  use_caps(10, 100, 4);
  EXPECT_EQ(subscribe({0x0a000001, 7000}, "10.0.0.1:1").status, 0);
  int refused = 0;
  for (std::uint16_t port = 1; port <= 1000; ++port) refused += subscribe({0x0a000002, port}, "10.0.0.2:1").status;
  EXPECT_EQ(refused, 1000 - 4);
  EXPECT_EQ(subscribe({0x0a000002, 5000}, "10.0.0.2:1").message,
            "10.0.0.2 has 4 peers in this swarm already (--max-peers-per-ip)");
  EXPECT_EQ(subscribe({0x0a000003, 7000}, "10.0.0.3:1").status, 0);
  auto a = exchange(request(TrackerCommand::list, {0x0a000009, 1}), 1000, false, "10.0.0.9:1");
  EXPECT_EQ(a.peers.size(), 6u);  // 10.0.0.1, four of 10.0.0.2, 10.0.0.3
}

TEST_P(TrackerTest, SwarmsAreCappedAndStaleOnesMakeRoom) {
  config_.allow_any = true;
  use_caps(2, 10, 10);
  const Digest third = sha256(bytes_of("third"));
  EXPECT_EQ(exchange(request(TrackerCommand::subscribe, {kLocal, 1}, kTracked)).status, 0);
  EXPECT_EQ(exchange(request(TrackerCommand::subscribe, {kLocal, 1}, kOther)).status, 0);
  auto a = exchange(request(TrackerCommand::subscribe, {kLocal, 1}, third));
  EXPECT_EQ(a.status, 1);
  EXPECT_EQ(a.message, "tracker full: 2 swarms already (--max-swarms)");
  EXPECT_EQ(swarms(), 2u);
  now_ += std::chrono::minutes(31);
  EXPECT_EQ(exchange(request(TrackerCommand::subscribe, {kLocal, 1}, third)).status, 0);
  EXPECT_EQ(swarms(), 1u);
}

TEST_P(TrackerTest, ASourceOverTheRateIsRefusedAndOthersAreNot) {
  config_.max_rate = 5;  // bursts of 5
  auto s = service();    // one service: one rate table
  auto ask = [&](std::string peer) {
    serve::SessionContext context;
    context.peer = std::move(peer);
    auto session = s->new_session(context);
    serve::Output out;
    offer(*session, request(TrackerCommand::list, {kLocal, 1}), out);
    return std::pair(std::to_integer<int>(out.bytes()[0]), text_of(out.bytes().subspan(5)));
  };
  int refused = 0;
  std::string message;
  for (int i = 0; i < 50; ++i) {
    auto [status, text] = ask("127.0.0.1:40000");
    if (status != 0) {
      ++refused;
      message = text;
    }
  }
  EXPECT_GE(refused, 50 - 5 - 1);  // the burst, and what trickles back while the loop runs
  EXPECT_EQ(message, "too many requests from 127.0.0.1: at most 5 a second (--max-rate)");
  EXPECT_EQ(ask("127.0.0.2:40000").first, 0);
  EXPECT_EQ(ask("[2001:db8::1]:40000").first, 0);
  for (int i = 0; i < 5; ++i) ask("[2001:db8::2]:40000");  // the same /64 as ::1
  EXPECT_EQ(ask("[2001:db8::1]:40000").first, 1);
}

sockit::testing::RedisTestServer* TrackerTest::redis_ = nullptr;

INSTANTIATE_TEST_SUITE_P(Stores, TrackerTest, ::testing::Values(Store::memory, Store::redis),
                         [](const auto& info) { return info.param == Store::memory ? "Memory" : "Redis"; });

}  // namespace
}  // namespace sockit::cascade
