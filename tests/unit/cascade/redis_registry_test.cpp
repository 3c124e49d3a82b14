// RedisRegistry against a real redis-server (redis_test_server.hpp), and RedisPool against
// servers that are down, silent or slow.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "cascade/redis_registry.hpp"
#include "net/io.hpp"
#include "net/socket.hpp"
#include "redis_test_server.hpp"
#include "test_support.hpp"

namespace sockit::cascade {
namespace {

using namespace std::chrono_literals;
using sockit::testing::bytes_of;
using sockit::testing::RedisTestServer;
using Clock = std::chrono::steady_clock;
using Refusal = SwarmRegistry::Refusal;

const Digest kHash = sha256(bytes_of("redis swarm"));
constexpr std::uint32_t kIp = 0x0a000001;  // 10.0.0.1
const auto kNow = SwarmRegistry::Clock::time_point(std::chrono::seconds(1'700'000'000));

#define SKIP_WITHOUT_REDIS() \
  if (!RedisTestServer::installed()) GTEST_SKIP() << "redis-server is not installed (scripts/bootstrap installs it)"

SwarmRegistry::Query subscribe(Endpoint who, SwarmRegistry::Clock::time_point now = kNow, const Digest& hash = kHash) {
  SwarmRegistry::Query query;
  query.hash = hash;
  query.requester = who;
  query.subscribe = true;
  query.now = now;
  return query;
}

SwarmRegistry::Query list(Endpoint who = {0x0a0000ff, 1}, SwarmRegistry::Clock::time_point now = kNow) {
  auto query = subscribe(who, now);
  query.subscribe = false;
  return query;
}

std::set<Endpoint> endpoints(const std::vector<PeerEntry>& entries) {
  std::set<Endpoint> found;
  for (const auto& entry : entries) found.insert(entry.endpoint);
  return found;
}

class RedisRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_REDIS();
    server_ = std::make_unique<RedisTestServer>(options_);
  }

  RedisSettings settings() const {
    RedisSettings s;
    s.server = server_->address();
    s.timeout = timeout_;
    return s;
  }

  std::unique_ptr<RedisRegistry> registry(RegistryCaps caps = {}, std::string prefix = "test") {
    return std::make_unique<RedisRegistry>(settings(), std::move(prefix), caps,
                                           [this](std::string_view line) { notices_.emplace_back(line); });
  }

  std::vector<std::string> options_;
  std::chrono::milliseconds timeout_ = 2s;
  std::unique_ptr<RedisTestServer> server_;
  std::vector<std::string> notices_;
};

TEST_F(RedisRegistryTest, APeerSubscribedThroughOneTrackerIsListedByAnother) {
  auto a = registry();
  auto b = registry();
  ASSERT_TRUE(a->answer(subscribe({kIp, 7000})));
  auto answer = b->answer(subscribe({kIp + 1, 7000}));
  ASSERT_TRUE(answer) << answer.error().what();
  ASSERT_EQ(answer->peers.size(), 1u);
  EXPECT_EQ(answer->peers[0].endpoint, (Endpoint{kIp, 7000}));
  EXPECT_EQ(answer->peers[0].last_seen, 1'700'000'000u);
  EXPECT_EQ(endpoints(a->answer(list())->peers), (std::set<Endpoint>{{kIp, 7000}, {kIp + 1, 7000}}));
}

TEST_F(RedisRegistryTest, TrackersWithAnotherPrefixKeepTheirOwnSwarms) {
  auto a = registry({}, "one");
  auto b = registry({}, "two");
  ASSERT_TRUE(a->answer(subscribe({kIp, 7000})));
  EXPECT_TRUE(b->answer(list())->peers.empty());
  EXPECT_EQ(a->entries(kHash).value(), 1u);
  EXPECT_EQ(b->entries(kHash).value(), 0u);
}

TEST_F(RedisRegistryTest, TheKeysShareOneHashTagAndExpireWithTheSwarm) {
  auto a = registry({}, "tag");
  auto query = subscribe({kIp, 7000});
  query.stale_after = std::chrono::seconds(60);
  query.good = true;
  ASSERT_TRUE(a->answer(query));
  const auto keys = server_->command({"KEYS", "*"});
  std::set<std::string> names;
  for (const auto& key : keys->elements) names.insert(key->text);
  const auto hex = to_hex(kHash);
  EXPECT_EQ(names, (std::set<std::string>{"{tag}:swarms", "{tag}:peers:" + hex, "{tag}:good:" + hex,
                                          "{tag}:ips:" + hex}));
  for (const auto& name : names) {
    const auto ttl = server_->command({"PTTL", name})->integer;
    EXPECT_GT(ttl, 50'000) << name;
    EXPECT_LE(ttl, 60'000) << name;
  }
}

TEST_F(RedisRegistryTest, AnAbandonedSwarmLeavesNothingInRedis) {
  auto a = registry();
  auto query = subscribe({kIp, 7000}, SwarmRegistry::Clock::now());
  query.stale_after = std::chrono::seconds(1);
  ASSERT_TRUE(a->answer(query));
  const auto deadline = Clock::now() + 5s;
  while (server_->command({"DBSIZE"})->integer > 0 && Clock::now() < deadline) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(server_->command({"DBSIZE"})->integer, 0);
}

TEST_F(RedisRegistryTest, TheListIsARandomSampleNotTheFirstEntries) {
  RegistryCaps caps;
  caps.peers_per_ip = 200;
  auto a = registry(caps);
  for (std::uint16_t port = 1; port <= 100; ++port) ASSERT_TRUE(a->answer(subscribe({kIp, port})));
  std::set<Endpoint> seen;
  for (int i = 0; i < 30; ++i) {
    const auto answer = a->answer(list());
    ASSERT_TRUE(answer);
    ASSERT_EQ(answer->peers.size(), 20u);
    EXPECT_EQ(endpoints(answer->peers).size(), 20u) << "an entry listed twice";
    for (const auto& entry : answer->peers) seen.insert(entry.endpoint);
  }
  EXPECT_GT(seen.size(), 80u) << "30 lists of 20 out of 100 should cover nearly all of them";
}

TEST_F(RedisRegistryTest, GoodPeersComeFirstAndTheRequesterIsLeftOut) {
  RegistryCaps caps;
  caps.peers_per_ip = 100;
  auto a = registry(caps);
  for (std::uint16_t port = 1; port <= 30; ++port) ASSERT_TRUE(a->answer(subscribe({kIp, port})));
  for (std::uint16_t port = 100; port < 103; ++port) {
    auto good = subscribe({kIp + 5, port});
    good.good = true;
    ASSERT_TRUE(a->answer(good));
  }
  const auto answer = a->answer(list({kIp + 5, 100}));
  ASSERT_EQ(answer->peers.size(), 20u);
  EXPECT_TRUE(answer->peers[0].good);
  EXPECT_TRUE(answer->peers[1].good);
  for (std::size_t i = 2; i < answer->peers.size(); ++i) EXPECT_FALSE(answer->peers[i].good);
  EXPECT_FALSE(endpoints(answer->peers).contains({kIp + 5, 100}));
}

// Two trackers subscribing at once, each request atomic: the caps hold for their sum.
TEST_F(RedisRegistryTest, CapsHoldAcrossTrackersSubscribingAtOnce) {
  RegistryCaps caps;
  caps.peers = 50;
  caps.peers_per_ip = 30;
  auto a = registry(caps);
  auto b = registry(caps);
  auto flood = [&](RedisRegistry& registry, std::uint32_t first_ip, std::uint16_t first_port) {
    int stored = 0;
    for (std::uint32_t ip = first_ip; ip < first_ip + 2; ++ip)
      for (std::uint16_t port = first_port; port < first_port + 40; ++port) {
        const auto answer = registry.answer(subscribe({ip, port}));
        EXPECT_TRUE(answer);
        if (answer && answer->refusal == Refusal::none) ++stored;
      }
    return stored;
  };
  // 160 new entries, 80 of them from kIp + 1, which both trackers take at the same time.
  auto from_a = std::async(std::launch::async, flood, std::ref(*a), kIp, 1);
  auto from_b = std::async(std::launch::async, flood, std::ref(*b), kIp + 1, 41);
  EXPECT_EQ(from_a.get() + from_b.get(), 50);
  EXPECT_EQ(a->entries(kHash).value(), 50u);
  const auto per_ip = server_->command({"HGETALL", "{test}:ips:" + to_hex(kHash)});
  for (std::size_t i = 1; i < per_ip->elements.size(); i += 2)
    EXPECT_LE(std::stoi(per_ip->elements[i]->text), 30) << per_ip->elements[i - 1]->text;
}

TEST_F(RedisRegistryTest, SwarmCapCountsEveryTrackersSwarmsAndStaleOnesMakeRoom) {
  RegistryCaps caps;
  caps.swarms = 2;
  auto a = registry(caps);
  auto b = registry(caps);
  auto in = [](const char* name, SwarmRegistry::Clock::time_point now) {
    return subscribe({kIp, 7000}, now, sha256(bytes_of(name)));
  };
  ASSERT_EQ(a->answer(in("one", kNow))->refusal, Refusal::none);
  ASSERT_EQ(b->answer(in("two", kNow))->refusal, Refusal::none);
  EXPECT_EQ(a->answer(in("three", kNow))->refusal, Refusal::too_many_swarms);
  EXPECT_EQ(b->answer(in("two", kNow))->refusal, Refusal::none) << "a swarm held takes new peers";
  EXPECT_EQ(b->answer(in("three", kNow + 31min))->refusal, Refusal::none);
  EXPECT_EQ(a->swarm_count().value(), 1u);
  EXPECT_EQ(server_->command({"EXISTS", "{test}:peers:" + to_hex(sha256(bytes_of("one")))})->integer, 0)
      << "a swept swarm's keys go with it";
}

TEST_F(RedisRegistryTest, StaleEntriesAreSweptWithTheirCountsPerAddress) {
  RegistryCaps caps;
  caps.peers_per_ip = 2;
  auto a = registry(caps);
  ASSERT_EQ(a->answer(subscribe({kIp, 1}))->refusal, Refusal::none);
  ASSERT_EQ(a->answer(subscribe({kIp, 2}))->refusal, Refusal::none);
  EXPECT_EQ(a->answer(subscribe({kIp, 3}))->refusal, Refusal::ip_full);
  EXPECT_EQ(a->answer(subscribe({kIp, 3}, kNow + 31min))->refusal, Refusal::none)
      << "the stale two no longer count for their address";
  EXPECT_EQ(a->entries(kHash).value(), 1u);
}

TEST_F(RedisRegistryTest, ARedisThatLostTheScriptGetsItAgain) {
  auto a = registry();
  ASSERT_TRUE(a->answer(subscribe({kIp, 1})));
  server_->command({"SCRIPT", "FLUSH"});
  auto answer = a->answer(subscribe({kIp, 2}));
  ASSERT_TRUE(answer) << answer.error().what();
  EXPECT_EQ(answer->peers.size(), 1u);
}

TEST_F(RedisRegistryTest, WhileRedisIsDownEveryRequestFailsAtOnceNamingRedisThenItRecoversByItself) {
  auto a = registry();
  ASSERT_TRUE(a->answer(subscribe({kIp, 1})));
  server_->stop();
  auto failed = a->answer(list());
  ASSERT_FALSE(failed);
  const std::string where = server_->address().to_string();
  EXPECT_TRUE(std::string(failed.error().what()).starts_with("Redis on " + where + " failed: "))
      << failed.error().what();
  const auto start = Clock::now();
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(a->answer(list()));
  EXPECT_LT(Clock::now() - start, 500ms) << "a Redis known to be down must cost no wait";
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_NE(notices_[0].find("the tracker answers status 1 until Redis is back"), std::string::npos) << notices_[0];

  server_->start();  // nothing saved: it comes back empty
  const auto deadline = Clock::now() + 5s;
  auto answer = a->answer(list());
  while (!answer && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    answer = a->answer(list());
  }
  ASSERT_TRUE(answer) << answer.error().what();
  EXPECT_TRUE(answer->peers.empty()) << "it lost what it held, and so does the tracker";
  ASSERT_EQ(notices_.size(), 2u);
  EXPECT_NE(notices_[1].find("Redis at " + where + " is back after"), std::string::npos) << notices_[1];
  EXPECT_LT(Clock::now() - deadline + 5s, 2500ms) << "back-off waits at most 2 s between tries";
}

TEST_F(RedisRegistryTest, AQuickRestartCostsNoRequest) {
  auto a = registry();
  ASSERT_TRUE(a->answer(subscribe({kIp, 1})));  // its connection now sits idle in the pool
  server_->stop();
  server_->start();
  auto answer = a->answer(subscribe({kIp, 2}));
  ASSERT_TRUE(answer) << answer.error().what();
  EXPECT_TRUE(answer->peers.empty()) << "the restarted Redis kept nothing";
  EXPECT_TRUE(notices_.empty()) << "no outage: the stale connection was replaced within the request";
}

class PersistentRedisTest : public RedisRegistryTest {
 protected:
  // Every write waits for its fsync: up to 0.46 s each with six fsync writers on this disk, and
  // a subscribe failed in CI, most likely on a slower disk. This test is about what survives, not
  // about how fast.
  PersistentRedisTest() {
    options_ = {"--appendonly", "yes", "--appendfsync", "always"};
    timeout_ = 15s;
  }
};

TEST_F(PersistentRedisTest, ACrashedRedisWithAnAppendOnlyFileLosesNoSubscribe) {
  auto a = registry();
  for (std::uint16_t port = 1; port <= 5; ++port) {
    auto answer = a->answer(subscribe({kIp, port}));
    ASSERT_TRUE(answer) << "subscribe " << port << ": " << answer.error().what();
  }
  server_->stop(SIGKILL);
  server_->start();
  auto b = registry();
  auto answer = b->answer(list());
  ASSERT_TRUE(answer) << answer.error().what();
  EXPECT_EQ(answer->peers.size(), 5u);
}

// A Redis Cluster node runs the script only when every key it touches is in one slot: the hash
// tag puts them all in {PREFIX}'s.
class ClusterRedisTest : public RedisRegistryTest {
 protected:
  ClusterRedisTest() {
    // The cluster bus needs a TCP port (port + 10000 unless given): a free one on loopback.
    auto probe = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
    const auto bus = std::to_string(probe.local_address().value().port());
    options_ = {"--cluster-enabled", "yes", "--cluster-port", bus, "--bind", "127.0.0.1"};
  }
  void SetUp() override {
    RedisRegistryTest::SetUp();
    if (IsSkipped()) return;
    ASSERT_EQ(server_->command({"CLUSTER", "ADDSLOTSRANGE", "0", "16383"})->text, "OK");
    const auto deadline = Clock::now() + 10s;
    while (server_->command({"CLUSTER", "INFO"})->text.find("cluster_state:ok") == std::string::npos) {
      ASSERT_LT(Clock::now(), deadline) << "the one-node cluster did not become ready";
      std::this_thread::sleep_for(100ms);
    }
  }
};

TEST_F(ClusterRedisTest, TheScriptRunsOnAClusterNodeAndSweepsOtherSwarmsInItsSlot) {
  RegistryCaps caps;
  caps.swarms = 1;
  auto a = registry(caps);
  auto first = a->answer(subscribe({kIp, 7000}));
  ASSERT_TRUE(first) << first.error().what();
  auto other = subscribe({kIp, 7000}, kNow + 31min, sha256(bytes_of("other")));
  auto second = a->answer(other);
  ASSERT_TRUE(second) << second.error().what();
  EXPECT_EQ(second->refusal, Refusal::none);
  EXPECT_EQ(a->swarm_count().value(), 1u);
  const auto hashed = server_->command({"CLUSTER", "KEYSLOT", "{test}:peers:" + to_hex(kHash)})->integer;
  EXPECT_EQ(server_->command({"CLUSTER", "KEYSLOT", "{test}:swarms"})->integer, hashed);
}

// ---- Redis down, silent or slow: RedisPool -------------------------------------------------

class RedisPoolTest : public ::testing::Test {
 protected:
  RedisSettings settings(net::Address server, std::chrono::milliseconds timeout) {
    RedisSettings s;
    s.server = std::move(server);
    s.timeout = timeout;
    return s;
  }
  static net::Result<std::unique_ptr<RedisReply>> ping(RedisPool& pool) {
    const std::string_view command[] = {"PING"};
    return pool.call(command);
  }

  sockit::testing::TempDir dir_;
};

TEST_F(RedisPoolTest, NothingListeningFailsAtOnceAndSaysWhy) {
  const auto where = net::Address::unix_path(dir_.file("none.sock")).value();
  RedisPool pool(settings(where, 1s));
  auto reply = ping(pool);
  ASSERT_FALSE(reply);
  EXPECT_EQ(std::string(reply.error().what()),
            "Redis on " + where.to_string() + " failed: No such file or directory (connect; next try in 100 ms)");
}

// A server that accepts (the kernel does, from the backlog) and never answers: the first
// request waits out the timeout, the requests after it answer at once until the next try.
TEST_F(RedisPoolTest, ASilentServerCostsOneTimeoutThenInstantAnswers) {
  auto silent = net::listen_on(net::Address::unix_path(dir_.file("silent.sock")).value()).value();
  RedisPool pool(settings(silent.local_address().value(), 300ms));
  auto start = Clock::now();
  auto reply = ping(pool);
  const auto waited = Clock::now() - start;
  ASSERT_FALSE(reply);
  EXPECT_GE(waited, 290ms);
  EXPECT_LT(waited, 1s);
  EXPECT_NE(std::string(reply.error().what()).find("Connection timed out"), std::string::npos) << reply.error().what();
  start = Clock::now();
  EXPECT_FALSE(ping(pool));
  EXPECT_LT(Clock::now() - start, 50ms);
}

TEST_F(RedisPoolTest, ManyCallersOnASilentServerEachWaitAtMostOneTimeout) {
  auto silent = net::listen_on(net::Address::unix_path(dir_.file("silent.sock")).value()).value();
  RedisPool pool(settings(silent.local_address().value(), 300ms));
  std::vector<std::future<Clock::duration>> callers;
  for (int i = 0; i < 8; ++i)
    callers.push_back(std::async(std::launch::async, [&] {
      const auto start = Clock::now();
      EXPECT_FALSE(ping(pool));
      return Clock::now() - start;
    }));
  for (auto& caller : callers) EXPECT_LT(caller.get(), 800ms);
}

// One byte every 50 ms keeps every single read short of any per-read timeout: the deadline is
// for the whole round trip.
TEST_F(RedisPoolTest, AServerDribblingItsReplyIsCutAtTheDeadline) {
  auto listener = net::listen_on(net::Address::unix_path(dir_.file("slow.sock")).value()).value();
  std::atomic<bool> done = false;
  std::thread dribbler([&] {
    auto client = listener.accept();
    if (!client) return;
    for (int i = 0; i < 100 && !done; ++i) {
      if (!net::send_all(client->fd(), bytes_of(i == 0 ? "$" : "9"))) return;
      std::this_thread::sleep_for(50ms);
    }
  });
  RedisPool pool(settings(listener.local_address().value(), 300ms));
  const auto start = Clock::now();
  EXPECT_FALSE(ping(pool));
  EXPECT_LT(Clock::now() - start, 600ms);
  done = true;
  dribbler.join();
}

}  // namespace
}  // namespace sockit::cascade
