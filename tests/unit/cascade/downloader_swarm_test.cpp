#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "cascade/downloader_swarm.hpp"
#include "cascade/hashing.hpp"

namespace sockit::cascade {
namespace {

using namespace std::chrono_literals;
using Clock = Swarm::Clock;

const Endpoint kSelf{0x7f000001, 4000};
const Endpoint kA{0x7f000001, 1001};
const Endpoint kB{0x7f000001, 1002};
const Endpoint kC{0x7f000001, 1003};

std::vector<std::byte> block_bytes(std::uint64_t index, std::size_t length) {
  return std::vector<std::byte>(length, static_cast<std::byte>('a' + index));
}

// A 3-block file (100, 100, 50 bytes) to be fetched into a fresh temporary data file.
class SwarmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "swarm-test-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    CascadeFile d;
    d.target_size = 250;
    d.block_size = 100;
    std::vector<std::byte> whole;
    for (std::uint64_t i = 0; i < 3; ++i) {
      auto bytes = block_bytes(i, d.block_length(i));
      d.block_hashes.push_back(sha256(bytes));
      whole.insert(whole.end(), bytes.begin(), bytes.end());
    }
    d.target_hash = sha256(whole);
    file_ = open_shared_file(d, (dir_ / "data").string()).value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::shared_ptr<SharedFile> file_;
};

TEST_F(SwarmTest, ABadBlockIsCountedAndNeverWritten) {
  Swarm swarm(file_, kSelf, 2);
  const auto index = swarm.picker().pick(kA, Clock::now()).value();
  auto wrong = block_bytes(index, file_->description().block_length(index));
  wrong[0] = std::byte{0};
  EXPECT_EQ(swarm.arrived(kA, index, wrong, Clock::now()).value(), Swarm::Arrival::bad);
  EXPECT_FALSE(file_->has(index));
  EXPECT_EQ(swarm.report().bad_blocks, 1u);
  swarm.opened(kA, Clock::now());
  swarm.closed(kA, true, false, Clock::now());
  EXPECT_EQ(swarm.report().dropped, std::vector<Endpoint>{kA});
  swarm.add_peers({{kA, 0, false}}, kSelf);
  EXPECT_TRUE(swarm.peers_to_connect(Clock::now() + 1h, 8).empty()) << "a banned peer is never connected again";
}

TEST_F(SwarmTest, BlocksAreWrittenOnceThenTheWholeFileIsChecked) {
  Swarm swarm(file_, kSelf, 2);
  const auto now = Clock::now();
  for (int i = 0; i < 3; ++i) {
    const auto index = swarm.picker().pick(kA, now).value();
    EXPECT_EQ(swarm.arrived(kA, index, block_bytes(index, file_->description().block_length(index)), now).value(),
              Swarm::Arrival::fresh);
  }
  EXPECT_TRUE(swarm.picker().complete());
  EXPECT_EQ(swarm.arrived(kB, 0, block_bytes(0, 100), now).value(), Swarm::Arrival::duplicate);
  ASSERT_TRUE(swarm.finish());
  EXPECT_TRUE(swarm.done());
  EXPECT_TRUE(swarm.report().target_verified);
  EXPECT_EQ(swarm.report().fetched, 3u);
  EXPECT_EQ(swarm.report().duplicates, 1u);
  EXPECT_EQ(swarm.report().blocks_from.at(kA), 3u);
}

TEST_F(SwarmTest, SubscribesFirstThenListsSoonThenEveryInterval) {
  Swarm swarm(file_, kSelf, 2);
  DownloadOptions options;
  options.list_interval = 1s;
  options.resubscribe_interval = 10s;
  const auto t0 = Clock::now();
  EXPECT_EQ(swarm.tracker_due(t0, options), TrackerCommand::subscribe);
  EXPECT_EQ(swarm.tracker_due(t0 + 249ms, options), std::nullopt);
  EXPECT_EQ(swarm.tracker_due(t0 + 250ms, options), TrackerCommand::list);
  EXPECT_EQ(swarm.tracker_due(t0 + 749ms, options), std::nullopt) << "500 ms after the first list";
  EXPECT_EQ(swarm.tracker_due(t0 + 750ms, options), TrackerCommand::list);
  EXPECT_EQ(swarm.tracker_due(t0 + 1749ms, options), std::nullopt) << "then list_interval apart";
  EXPECT_EQ(swarm.tracker_due(t0 + 1750ms, options), TrackerCommand::list);
  EXPECT_EQ(swarm.tracker_due(t0 + 2749ms, options), std::nullopt);
  EXPECT_EQ(swarm.tracker_due(t0 + 10s, options), TrackerCommand::subscribe);
  EXPECT_EQ(swarm.tracker_due(t0 + 10250ms, options), TrackerCommand::list) << "soon again after a subscribe";
}

TEST_F(SwarmTest, AfterAFailedExchangeTheNextOneSubscribesAgainWhenDue) {
  Swarm swarm(file_, kSelf, 2);
  DownloadOptions options;
  options.list_interval = 1s;
  options.resubscribe_interval = 600s;
  const auto t0 = Clock::now();
  EXPECT_EQ(swarm.tracker_due(t0, options), TrackerCommand::subscribe);
  EXPECT_EQ(swarm.tracker_due(t0 + 250ms, options), TrackerCommand::list);
  swarm.tracker_failed();  // a restarted tracker knows nobody
  EXPECT_EQ(swarm.tracker_due(t0 + 700ms, options), std::nullopt) << "no sooner than the next list was due";
  EXPECT_EQ(swarm.tracker_due(t0 + 750ms, options), TrackerCommand::subscribe);
  EXPECT_EQ(swarm.tracker_due(t0 + 1000ms, options), TrackerCommand::list);
}

TEST_F(SwarmTest, ConnectsToKnownPeersWithinTheLimitAndBacksOffAfterALoss) {
  Swarm swarm(file_, kSelf, 2);
  const auto now = Clock::now();
  EXPECT_EQ(swarm.add_peers({{kSelf, 0, false}, {kA, 0, false}, {kB, 0, false}, {{1, 0}, 0, false}}, kSelf), 2u);
  EXPECT_EQ(swarm.add_peers({{kA, 0, false}, {kC, 0, false}}, kSelf), 1u);
  EXPECT_EQ(swarm.peers_to_connect(now, 2).size(), 2u);
  swarm.opened(kA, Clock::now());
  EXPECT_EQ(swarm.peers_to_connect(now, 2), std::vector<Endpoint>{kB});
  swarm.closed(kA, false, false, now);
  EXPECT_EQ(swarm.peers_to_connect(now, 8), (std::vector<Endpoint>{kB, kC}));
  EXPECT_EQ(swarm.peers_to_connect(now + 1s, 8).size(), 3u) << "back again after the back-off";
  swarm.opened(kB, Clock::now());
  swarm.closed(kB, false, true, now);
  EXPECT_EQ(swarm.peers_to_connect(now, 8), (std::vector<Endpoint>{kB, kC})) << "a quiet close is no failure";
}

TEST_F(SwarmTest, PeersNoOneCanReachAreNeverAdded) {
  Swarm swarm(file_, kSelf, 2);
  const std::vector<PeerEntry> unusable{{{0x00000000, 0}, 0, false},     {{0x00000000, 80}, 0, false},
                                        {{0x00ffffff, 80}, 0, false},    {{0xffffffff, 65535}, 0, false},
                                        {{0xe0000001, 80}, 0, false},    {{0xefffffff, 80}, 0, false},
                                        {{0xf0000001, 80}, 0, false},    {{0x7f000001, 0}, 0, false}};
  EXPECT_EQ(swarm.add_peers(unusable, kSelf), 0u);
  EXPECT_TRUE(swarm.peers_to_connect(Clock::now(), 8).empty());
  EXPECT_EQ(swarm.add_peers({{kA, 0, false}}, kSelf), 1u);
}

}  // namespace
}  // namespace sockit::cascade
