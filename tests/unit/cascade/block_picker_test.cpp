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
using Role = BlockPicker::Role;

// Sorted as they are named: self sorts between the leechers A and B.
const Endpoint kA{0x0a000001, 1001};
const Endpoint kSelf{0x0a000002, 1000};
const Endpoint kB{0x0a000003, 1002};
const Endpoint kC{0x0a000004, 1003};
const Endpoint kSeed{0x0a000010, 2000};
const Endpoint kSeed2{0x0a000011, 2000};
const TimePoint kT0{};  // the picker has no clock: any time point will do

std::vector<bool> none_held(std::size_t blocks) { return std::vector<bool>(blocks, false); }

// Picks for `peer` until it is given nothing (bounded: never more than every block).
std::vector<std::uint64_t> pick_all(BlockPicker& picker, const Endpoint& peer, TimePoint now = kT0) {
  std::vector<std::uint64_t> picked;
  for (std::size_t i = 0; i <= picker.block_count() + 1; ++i) {
    auto index = picker.pick(peer, now);
    if (!index) break;
    picked.push_back(*index);
  }
  return picked;
}

// Opens `peer` and has it answer its first request as a seed would (it delivers the block).
std::uint64_t make_source(BlockPicker& picker, const Endpoint& peer, TimePoint now = kT0) {
  picker.opened(peer, now);
  const auto index = picker.pick(peer, now).value();
  EXPECT_TRUE(picker.delivered(peer, index, now));
  EXPECT_EQ(picker.role(peer), Role::source);
  return index;
}

// Opens `peer` and has it answer its first request as a leecher with nothing yet would.
void make_leecher(BlockPicker& picker, const Endpoint& peer, TimePoint now = kT0) {
  picker.opened(peer, now);
  const auto index = picker.pick(peer, now).value();
  picker.lacks(peer, index, now);
  EXPECT_EQ(picker.role(peer), Role::leecher);
}

TEST(BlockPicker, AnUnknownPeerGetsOneRequestAndItsAnswerTellsItsRole) {
  BlockPicker picker(none_held(64), kSelf);
  picker.opened(kSeed, kT0);
  picker.opened(kA, kT0);
  EXPECT_EQ(picker.role(kSeed), Role::unknown);
  const auto first = picker.pick(kSeed, kT0).value();
  EXPECT_EQ(picker.pick(kSeed, kT0), std::nullopt) << "one request until it answers";
  EXPECT_TRUE(picker.delivered(kSeed, first, kT0));
  EXPECT_EQ(picker.role(kSeed), Role::source);
  picker.lacks(kA, picker.pick(kA, kT0).value(), kT0);
  EXPECT_EQ(picker.role(kA), Role::leecher);
  // A source that lacks a block was a leecher all along, for good.
  const auto later = kT0 + 10s;
  const auto next = picker.pick(kSeed, later).value();
  picker.lacks(kSeed, next, later);
  EXPECT_EQ(picker.role(kSeed), Role::leecher);
  picker.delivered(kSeed, next, later);
  EXPECT_EQ(picker.role(kSeed), Role::leecher);
}

TEST(BlockPicker, ALoneLeecherAsksItsSourceForEveryMissingBlockOnceInOrder) {
  BlockPicker picker(none_held(64), kSelf);
  const auto first = make_source(picker, kSeed);
  auto picked = pick_all(picker, kSeed);
  picked.insert(picked.begin(), first);
  std::vector<std::uint64_t> all(64);
  for (std::uint64_t i = 0; i < 64; ++i) all[i] = i;
  EXPECT_EQ(picked, all) << "our stripe is the whole file, front to back";
}

TEST(BlockPicker, NeverPicksHeldBlocks) {
  std::vector<bool> held(10, true);
  held[3] = held[7] = false;
  BlockPicker picker(held, kSelf);
  EXPECT_EQ(picker.missing(), 2u);
  picker.opened(kSeed, kT0);
  EXPECT_EQ(picker.pick(kSeed, kT0), 3u);
  picker.lost(kSeed, kT0);
  picker.opened(kSeed, kT0);
  auto picked = pick_all(picker, kSeed);
  EXPECT_EQ(picked, (std::vector<std::uint64_t>{3})) << "an unknown peer gets one request";
}

TEST(BlockPicker, StripesSplitTheFileAmongUsAndTheLeechersBySortedEndpoint) {
  BlockPicker picker(none_held(90), kSelf);
  make_leecher(picker, kA);
  make_leecher(picker, kB);
  make_source(picker, kSeed);
  const auto& stripes = picker.stripes();
  EXPECT_EQ(stripes.size(), 3u) << "the source is no member";
  EXPECT_EQ(stripes.of(kA).begin, 0u);
  EXPECT_EQ(stripes.own().begin, 30u);
  EXPECT_EQ(stripes.own().end, 60u);
  EXPECT_EQ(stripes.of(kB).end, 90u);
  picker.lost(kA, kT0);
  EXPECT_EQ(stripes.own().begin, 0u) << "a leecher whose connection is gone leaves the stripes";
  EXPECT_EQ(stripes.own().end, 45u);
}

TEST(BlockPicker, ASourceIsAskedForOurOwnStripeOnly) {
  BlockPicker picker(none_held(90), kSelf, {.starve_after = 60s, .settle = 1000ms});
  make_leecher(picker, kA);
  make_leecher(picker, kB);
  make_source(picker, kSeed);
  // After the settling time: no clearing needed.
  const auto later = kT0 + 2s;
  const auto picked = pick_all(picker, kSeed, later);
  ASSERT_FALSE(picked.empty());
  for (auto index : picked) EXPECT_TRUE(picker.stripes().own().contains(index)) << index;
  EXPECT_TRUE(std::is_sorted(picked.begin(), picked.end()));
}

TEST(BlockPicker, TwoSourcesAreAskedForDifferentBlocks) {
  BlockPicker picker(none_held(30), kSelf);
  make_source(picker, kSeed);
  make_source(picker, kSeed2);
  std::map<Endpoint, std::set<std::uint64_t>> got;
  for (int round = 0; round < 4; ++round)
    for (const auto& peer : {kSeed, kSeed2}) got[peer].insert(picker.pick(peer, kT0).value());
  std::set<std::uint64_t> all;
  for (const auto& [peer, blocks] : got) {
    EXPECT_EQ(picker.in_flight_at(peer), 4u);
    all.insert(blocks.begin(), blocks.end());
  }
  EXPECT_EQ(all.size(), 8u) << "no block is in flight at two sources";
}

// 90 blocks of which [begin, end) (our own stripe) are held, so that nothing is cleared.
std::vector<bool> held_between(std::size_t begin, std::size_t end) {
  std::vector<bool> held(90, false);
  for (std::size_t i = begin; i < end; ++i) held[i] = true;
  return held;
}

TEST(BlockPicker, ALeecherIsAskedForItsStripeInOrderAndNotPastWhatItLacks) {
  BlockPicker picker(held_between(30, 60), kSelf, {.lack_retry = 100ms});  // A, self, B: a third each
  make_leecher(picker, kA);
  make_leecher(picker, kB);
  const auto theirs = picker.stripes().of(kB);
  auto now = kT0 + 1s;
  auto first = picker.pick(kB, now).value();
  EXPECT_EQ(first, theirs.begin);
  EXPECT_TRUE(picker.delivered(kB, first, now));
  // It had block begin: begin+1 is asked, and once it lacks that, nothing of its stripe until the retry.
  const auto second = picker.pick(kB, now).value();
  EXPECT_EQ(second, theirs.begin + 1);
  picker.lacks(kB, second, now);
  for (auto index : pick_all(picker, kB, now + 50ms)) EXPECT_FALSE(theirs.contains(index)) << index;
  EXPECT_EQ(picker.pick(kB, now + 100ms), second) << "asked again after lack_retry";
}

TEST(BlockPicker, WhileTheStripesSettleASourceWaitsUntilEveryLeecherLacksTheBlock) {
  BlockPicker picker(none_held(90), kSelf, {.settle = 3000ms});
  make_leecher(picker, kA);
  make_leecher(picker, kB);
  make_source(picker, kSeed);
  const auto own = picker.stripes().own();
  // Every leecher is asked first for the front of our stripe (kA and kB at once).
  const auto at_a = picker.pick(kA, kT0).value();
  const auto at_b = picker.pick(kB, kT0).value();
  EXPECT_TRUE(own.contains(at_a));
  EXPECT_EQ(at_a, at_b) << "a clearing probe may be in flight at many leechers";
  EXPECT_EQ(picker.pick(kSeed, kT0), std::nullopt) << "nobody said it lacks " << at_a << " yet";
  picker.lacks(kA, at_a, kT0);
  EXPECT_EQ(picker.pick(kSeed, kT0), std::nullopt) << "B did not answer yet";
  // B had it: it came from B, and the seed is not asked for it at all.
  EXPECT_TRUE(picker.delivered(kB, at_b, kT0));
  EXPECT_TRUE(picker.held(at_a));
  // Once settled, the seed is asked straight away.
  EXPECT_TRUE(own.contains(picker.pick(kSeed, kT0 + 4s).value()));
}

TEST(BlockPicker, ALeecherIsProbedForOtherStripesAtMostOncePerInterval) {
  // A, self, B, C: 22 or 23 blocks each.
  BlockPicker picker(held_between(22, 45), kSelf, {.lack_retry = 1000ms, .probe_interval = 250ms});
  make_leecher(picker, kA);
  make_leecher(picker, kB);
  make_leecher(picker, kC);
  const auto now = kT0 + 10s;
  // Nothing left to clear or follow at A once it lacked the first block of its stripe.
  for (auto index : pick_all(picker, kA, now)) picker.lacks(kA, index, now);
  std::vector<std::uint64_t> probes;
  for (auto t = now; t < now + 1s; t += 50ms)
    for (auto index : pick_all(picker, kA, t)) {
      probes.push_back(index);
      picker.lacks(kA, index, t);
    }
  EXPECT_LE(probes.size(), 4u) << "one probe per 250 ms";
  EXPECT_GE(probes.size(), 3u);
  for (auto index : probes) {
    EXPECT_FALSE(picker.stripes().of(kA).contains(index));
    EXPECT_FALSE(picker.stripes().own().contains(index));
  }
}

TEST(BlockPicker, WithoutASourceOurStripeIsAskedOfEveryLeecherAgainAndAgain) {
  BlockPicker picker(none_held(90), kSelf, {.lack_retry = 100ms, .settle = 1000ms});
  make_leecher(picker, kA);
  make_leecher(picker, kB);
  const auto own = picker.stripes().own();
  auto now = kT0 + 10s;  // settled: only the seed's absence keeps the clearing going
  const auto at_a = picker.pick(kA, now).value();
  EXPECT_EQ(at_a, own.begin);
  EXPECT_EQ(picker.pick(kB, now), at_a) << "asked of every leecher at once";
  picker.lacks(kA, at_a, now);
  picker.lacks(kB, at_a, now);
  for (auto index : pick_all(picker, kA, now + 50ms)) {
    EXPECT_NE(index, at_a) << "not before lack_retry";
    picker.lacks(kA, index, now + 50ms);
  }
  EXPECT_EQ(picker.pick(kA, now + 100ms), at_a) << "asked again after lack_retry: someone may have it by now";
}

TEST(BlockPicker, WhenNothingArrivesASourceIsAskedForAnyBlock) {
  // Our stripe is done; B's stripe never comes (B never gets it): after starve_after, the seed.
  BlockPicker picker(held_between(30, 60), kSelf, {.starve_after = 3000ms, .settle = 1000ms});
  make_leecher(picker, kA);
  make_leecher(picker, kB);
  make_source(picker, kSeed);
  EXPECT_EQ(picker.pick(kSeed, kT0 + 2s), std::nullopt) << "our own stripe is held: nothing to ask a source for";
  const auto any = picker.pick(kSeed, kT0 + 4s);
  ASSERT_TRUE(any.has_value());
  EXPECT_FALSE(picker.stripes().own().contains(*any));
}

TEST(BlockPicker, EndGameAsksALeecherForASecondCopyOfBlocksStillInFlight) {
  BlockPicker picker(none_held(3), kSelf);
  make_source(picker, kSeed);
  const auto at_seed = pick_all(picker, kSeed);
  ASSERT_EQ(at_seed.size(), 2u);
  EXPECT_TRUE(picker.end_game());
  make_leecher(picker, kA);  // its first request was an end-game copy, which it lacked
  const auto now = kT0 + 1s;
  const auto copies = pick_all(picker, kA, now);
  EXPECT_EQ(std::set<std::uint64_t>(copies.begin(), copies.end()), std::set<std::uint64_t>(at_seed.begin(), at_seed.end()));
  for (auto index : at_seed) EXPECT_EQ(picker.copies(index), 2u);
  picker.opened(kB, now);
  EXPECT_EQ(pick_all(picker, kB, now + 1s), std::vector<std::uint64_t>{}) << "two copies at most";
  // The first copy to arrive counts; the second is a duplicate.
  EXPECT_TRUE(picker.delivered(kA, copies[0], now));
  EXPECT_FALSE(picker.delivered(kSeed, copies[0], now));
  EXPECT_EQ(picker.copies(copies[0]), 0u);
}

TEST(BlockPicker, ASourceGivesSecondCopiesOnlyOnceNothingArrives) {
  BlockPicker picker(none_held(3), kSelf, {.starve_after = 3000ms});
  make_source(picker, kSeed);
  make_source(picker, kSeed2);
  pick_all(picker, kSeed);
  EXPECT_TRUE(picker.end_game());
  EXPECT_EQ(picker.pick(kSeed2, kT0 + 1s), std::nullopt) << "its uplink is the others' to use";
  EXPECT_TRUE(picker.pick(kSeed2, kT0 + 4s).has_value()) << "nothing for 3 s: the end must not wait on one peer";
}

TEST(BlockPicker, NoEndGameWhileAMissingBlockIsNotInFlight) {
  BlockPicker picker(none_held(2), kSelf);
  picker.opened(kSeed, kT0);
  picker.opened(kA, kT0);
  const auto first = picker.pick(kSeed, kT0).value();
  const auto second = picker.pick(kA, kT0).value();
  picker.lacks(kA, second, kT0);
  EXPECT_FALSE(picker.end_game());
  EXPECT_EQ(picker.pick(kA, kT0), std::nullopt) << "A lacks the free block and must not get a copy of " << first;
  EXPECT_EQ(picker.copies(first), 1u);
  picker.opened(kB, kT0);
  EXPECT_EQ(picker.pick(kB, kT0), second);
}

TEST(BlockPicker, ALackedBlockGoesElsewhereAndBackAfterTheRetryTime) {
  BlockPicker picker(none_held(1), kSelf, {.lack_retry = 1000ms});
  picker.opened(kA, kT0);
  ASSERT_EQ(picker.pick(kA, kT0), 0u);
  picker.lacks(kA, 0, kT0);
  EXPECT_EQ(picker.copies(0), 0u);
  EXPECT_EQ(picker.pick(kA, kT0 + 999ms), std::nullopt);
  picker.opened(kB, kT0);
  ASSERT_EQ(picker.pick(kB, kT0 + 999ms), 0u);
  picker.lost(kB, kT0 + 999ms);
  EXPECT_EQ(picker.pick(kA, kT0 + 999ms), std::nullopt);
  EXPECT_EQ(picker.pick(kA, kT0 + 1000ms), 0u);
}

TEST(BlockPicker, LostBlocksAreAskedFirst) {
  BlockPicker picker(none_held(50), kSelf);
  make_source(picker, kSeed);
  const auto a1 = picker.pick(kSeed, kT0).value();
  const auto a2 = picker.pick(kSeed, kT0).value();
  picker.pick(kSeed, kT0);
  picker.lost(kSeed, kT0);
  EXPECT_EQ(picker.in_flight_at(kSeed), 0u);
  EXPECT_EQ(picker.copies(a1) + picker.copies(a2), 0u);
  make_source(picker, kSeed2);  // its first request was the first lost block
  EXPECT_EQ(picker.pick(kSeed2, kT0), a2);
}

TEST(BlockPicker, ABannedPeerGetsNothingAndItsBlocksGoBack) {
  BlockPicker picker(none_held(4), kSelf);
  make_source(picker, kSeed);
  const auto a = picker.pick(kSeed, kT0).value();
  picker.ban(kSeed, kT0);
  EXPECT_TRUE(picker.banned(kSeed));
  EXPECT_FALSE(picker.banned(kSeed2));
  EXPECT_EQ(picker.copies(a), 0u);
  EXPECT_EQ(picker.pick(kSeed, kT0), std::nullopt);
  picker.opened(kSeed2, kT0);
  EXPECT_EQ(picker.pick(kSeed2, kT0), a);
  // Even in end-game a banned peer is not asked.
  picker.delivered(kSeed2, a, kT0);
  pick_all(picker, kSeed2);
  EXPECT_TRUE(picker.end_game());
  EXPECT_EQ(picker.pick(kSeed, kT0 + 1h), std::nullopt);
}

// A whole download against peers that answer in any order, lack blocks, vanish: every block ends
// held exactly once; outside end-game a block is in flight at one source at most and never at a
// source and a leecher at once; a duplicate comes only from an end-game copy or from a clearing
// probe that two leechers answered.
TEST(BlockPicker, EveryBlockIsFetchedOnceFromASourceOutsideEndGame) {
  std::size_t all_end_game_picks = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 random(seed);
    BlockPicker picker(none_held(200), kSelf);
    const std::vector<Endpoint> peers{kA, kB, kC, kSeed, kSeed2};
    std::map<Endpoint, std::vector<std::uint64_t>> asked;
    std::set<std::uint64_t> held;
    std::size_t duplicates = 0, extra_picks = 0;
    auto now = kT0;
    for (const auto& peer : peers) picker.opened(peer, now);
    for (int step = 0; step < 100000 && !picker.complete(); ++step) {
      now += 10ms;
      const auto& peer = peers[random() % peers.size()];
      const bool seed_like = peer == kSeed || peer == kSeed2;
      auto& mine = asked[peer];
      const auto action = random() % 10;
      if (action < 4 || mine.empty()) {
        const bool end_game = picker.end_game();
        if (auto index = picker.pick(peer, now)) {
          EXPECT_FALSE(held.contains(*index));
          if (end_game || picker.copies(*index) > 1) ++extra_picks;
          if (!end_game && picker.role(peer) == Role::source) {
            ASSERT_EQ(picker.copies(*index), 1u) << "block " << *index << " asked of a source and elsewhere";
          }
          mine.push_back(*index);
        }
      } else if (action < 8 || seed_like) {
        const auto index = mine[random() % mine.size()];
        std::erase(mine, index);
        if (action >= 9 && seed_like) {
          mine.clear();
          picker.lost(peer, now);
          picker.opened(peer, now);
        } else if (picker.delivered(peer, index, now)) {
          EXPECT_TRUE(held.insert(index).second);
        } else {
          ++duplicates;
        }
      } else if (action < 9) {
        const auto index = mine[random() % mine.size()];
        std::erase(mine, index);
        picker.lacks(peer, index, now);
      } else {
        mine.clear();
        picker.lost(peer, now);
        picker.opened(peer, now);
      }
    }
    EXPECT_TRUE(picker.complete()) << "seed " << seed;
    EXPECT_EQ(held.size(), 200u);
    EXPECT_LE(duplicates, extra_picks) << "a duplicate only comes from an end-game copy or a parallel probe";
    all_end_game_picks += extra_picks;
  }
  EXPECT_GT(all_end_game_picks, 0u) << "the runs reached end-game";
}

}  // namespace
}  // namespace sockit::cascade
