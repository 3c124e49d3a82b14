#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "cascade/block_picker.hpp"

namespace sockit::cascade {
namespace {

using namespace std::chrono_literals;
using TimePoint = BlockPicker::TimePoint;

const Endpoint kA{0x7f000001, 1001};
const Endpoint kB{0x7f000001, 1002};
const Endpoint kC{0x7f000001, 1003};
const TimePoint kT0{};  // the picker has no clock: any time point will do

std::vector<bool> none_held(std::size_t blocks) { return std::vector<bool>(blocks, false); }

// Picks for `peer` until it is given nothing; every block it got, in order.
std::vector<std::uint64_t> pick_all(BlockPicker& picker, const Endpoint& peer, TimePoint now = kT0) {
  std::vector<std::uint64_t> picked;
  for (std::size_t i = 0; i <= picker.block_count() + 1; ++i) {  // bounded: never more than every block
    auto index = picker.pick(peer, now);
    if (!index) break;
    picked.push_back(*index);
  }
  return picked;
}

TEST(BlockPicker, PicksEveryMissingBlockOnceInARandomOrder) {
  BlockPicker picker(none_held(64), 7);
  auto picked = pick_all(picker, kA);
  ASSERT_EQ(picked.size(), 64u);
  EXPECT_EQ(std::set<std::uint64_t>(picked.begin(), picked.end()).size(), 64u);
  EXPECT_FALSE(std::is_sorted(picked.begin(), picked.end()));
  BlockPicker other(none_held(64), 8);
  EXPECT_NE(pick_all(other, kA), picked) << "another seed, another order";
}

TEST(BlockPicker, NeverPicksHeldBlocks) {
  std::vector<bool> held(10, true);
  held[3] = held[7] = false;
  BlockPicker picker(held, 1);
  EXPECT_EQ(picker.missing(), 2u);
  auto picked = pick_all(picker, kA);
  std::sort(picked.begin(), picked.end());
  EXPECT_EQ(picked, (std::vector<std::uint64_t>{3, 7}));
}

TEST(BlockPicker, PicksAreSpreadAcrossPeers) {
  // Three peers asking in turn, four requests each: each gets its own four blocks.
  BlockPicker picker(none_held(30), 3);
  std::map<Endpoint, std::set<std::uint64_t>> got;
  for (int round = 0; round < 4; ++round)
    for (const auto& peer : {kA, kB, kC}) got[peer].insert(picker.pick(peer, kT0).value());
  std::set<std::uint64_t> all;
  for (const auto& [peer, blocks] : got) {
    EXPECT_EQ(blocks.size(), 4u);
    EXPECT_EQ(picker.in_flight_at(peer), 4u);
    all.insert(blocks.begin(), blocks.end());
  }
  EXPECT_EQ(all.size(), 12u) << "no block is in flight at two peers";
}

TEST(BlockPicker, EndGameAsksASecondPeerForBlocksStillInFlight) {
  BlockPicker picker(none_held(3), 5);
  auto at_a = pick_all(picker, kA);
  ASSERT_EQ(at_a.size(), 3u);
  EXPECT_TRUE(picker.end_game());
  EXPECT_EQ(picker.pick(kA, kT0), std::nullopt) << "never the same peer twice for one block";
  auto at_b = pick_all(picker, kB);
  EXPECT_EQ(std::set<std::uint64_t>(at_b.begin(), at_b.end()), std::set<std::uint64_t>(at_a.begin(), at_a.end()));
  for (auto index : at_a) EXPECT_EQ(picker.copies(index), 2u);
  EXPECT_EQ(picker.pick(kC, kT0), std::nullopt) << "two copies at most";
  // The first copy to arrive counts; the second is a duplicate.
  EXPECT_TRUE(picker.delivered(kB, at_b[0]));
  EXPECT_FALSE(picker.delivered(kA, at_b[0]));
  EXPECT_EQ(picker.copies(at_b[0]), 0u);
}

TEST(BlockPicker, NoEndGameWhileAMissingBlockIsNotInFlight) {
  BlockPicker picker(none_held(2), 9);
  const auto first = picker.pick(kA, kT0).value();
  const auto second = picker.pick(kB, kT0).value();
  picker.lacks(kB, second, kT0);
  EXPECT_FALSE(picker.end_game());
  EXPECT_EQ(picker.pick(kB, kT0), std::nullopt) << "B lacks the free block and must not get a copy of " << first;
  EXPECT_EQ(picker.copies(first), 1u);
  EXPECT_EQ(picker.pick(kC, kT0), second);
}

TEST(BlockPicker, ALackedBlockGoesElsewhereAndBackAfterTheRetryTime) {
  BlockPicker picker(none_held(1), 2, {.lack_retry = 1000ms});
  ASSERT_EQ(picker.pick(kA, kT0), 0u);
  picker.lacks(kA, 0, kT0);
  EXPECT_EQ(picker.copies(0), 0u);
  EXPECT_EQ(picker.pick(kA, kT0 + 999ms), std::nullopt);
  ASSERT_EQ(picker.pick(kB, kT0 + 999ms), 0u);
  picker.lost(kB);
  EXPECT_EQ(picker.pick(kA, kT0 + 999ms), std::nullopt);
  EXPECT_EQ(picker.pick(kA, kT0 + 1000ms), 0u);
}

TEST(BlockPicker, LostBlocksAreAskedFirst) {
  BlockPicker picker(none_held(50), 4);
  const auto a1 = picker.pick(kA, kT0).value();
  const auto a2 = picker.pick(kA, kT0).value();
  picker.lost(kA);
  EXPECT_EQ(picker.in_flight_at(kA), 0u);
  EXPECT_EQ(picker.copies(a1) + picker.copies(a2), 0u);
  std::set<std::uint64_t> again{picker.pick(kB, kT0).value(), picker.pick(kB, kT0).value()};
  EXPECT_EQ(again, (std::set<std::uint64_t>{a1, a2}));
}

TEST(BlockPicker, ABannedPeerGetsNothingAndItsBlocksGoBack) {
  BlockPicker picker(none_held(4), 6);
  const auto a = picker.pick(kA, kT0).value();
  picker.ban(kA);
  EXPECT_TRUE(picker.banned(kA));
  EXPECT_FALSE(picker.banned(kB));
  EXPECT_EQ(picker.copies(a), 0u);
  EXPECT_EQ(picker.pick(kA, kT0), std::nullopt);
  EXPECT_EQ(picker.pick(kB, kT0), a);
  // Even in end-game a banned peer is not asked.
  pick_all(picker, kB);
  EXPECT_TRUE(picker.end_game());
  EXPECT_EQ(picker.pick(kA, kT0), std::nullopt);
}

// A whole download against peers that answer in any order, lack blocks, vanish: every block is
// in flight at one peer at most until end-game, and each ends held exactly once.
TEST(BlockPicker, EveryBlockIsFetchedOnceOutsideEndGame) {
  std::size_t all_end_game_picks = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 random(seed);
    BlockPicker picker(none_held(200), seed);
    const std::vector<Endpoint> peers{kA, kB, kC};
    std::map<Endpoint, std::vector<std::uint64_t>> asked;
    std::set<std::uint64_t> held;
    std::size_t duplicates = 0, end_game_picks = 0;
    auto now = kT0;
    for (int step = 0; step < 100000 && !picker.complete(); ++step) {
      now += 10ms;
      const auto& peer = peers[random() % peers.size()];
      auto& mine = asked[peer];
      const auto action = random() % 10;
      if (action < 4 || mine.empty()) {
        const bool end_game = picker.end_game();
        if (auto index = picker.pick(peer, now)) {
          EXPECT_FALSE(held.contains(*index));
          if (end_game) ++end_game_picks;
          else ASSERT_EQ(picker.copies(*index), 1u) << "block " << *index << " asked twice outside end-game";
          mine.push_back(*index);
        }
      } else if (action < 8) {
        const auto index = mine[random() % mine.size()];
        std::erase(mine, index);
        if (picker.delivered(peer, index)) EXPECT_TRUE(held.insert(index).second);
        else ++duplicates;
      } else if (action < 9) {
        const auto index = mine[random() % mine.size()];
        std::erase(mine, index);
        picker.lacks(peer, index, now);
      } else {
        mine.clear();
        picker.lost(peer);
      }
    }
    EXPECT_TRUE(picker.complete()) << "seed " << seed;
    EXPECT_EQ(held.size(), 200u);
    EXPECT_LE(duplicates, end_game_picks) << "a duplicate only comes from an end-game copy";
    all_end_game_picks += end_game_picks;
  }
  EXPECT_GT(all_end_game_picks, 0u) << "the runs reached end-game";
}

}  // namespace
}  // namespace sockit::cascade
