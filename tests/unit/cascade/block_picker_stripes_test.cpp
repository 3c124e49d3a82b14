#include <gtest/gtest.h>

#include "cascade/block_picker_stripes.hpp"

namespace sockit::cascade {
namespace {

const Endpoint kA{0x0a000001, 1};
const Endpoint kSelf{0x0a000002, 1};
const Endpoint kB{0x0a000002, 2};  // same address, next port: sorts after self
const Endpoint kC{0x0a000003, 1};

using Range = BlockStripes::Range;

bool same(Range a, Range b) { return a.begin == b.begin && a.end == b.end; }

TEST(BlockStripes, AloneWeOwnEveryBlock) {
  BlockStripes stripes(10, kSelf);
  EXPECT_EQ(stripes.size(), 1u);
  EXPECT_TRUE(same(stripes.own(), {0, 10}));
  EXPECT_TRUE(stripes.of(kA).empty()) << "no member, no stripe";
}

TEST(BlockStripes, MembersSortedByEndpointGetEqualContiguousStripes) {
  BlockStripes stripes(10, kSelf);
  EXPECT_TRUE(stripes.add(kC));
  EXPECT_TRUE(stripes.add(kA));
  EXPECT_TRUE(stripes.add(kB));
  EXPECT_FALSE(stripes.add(kB)) << "already a member";
  EXPECT_FALSE(stripes.add(kSelf));
  // A, self, B, C: floor(10 * r / 4).
  EXPECT_TRUE(same(stripes.of(kA), {0, 2}));
  EXPECT_TRUE(same(stripes.own(), {2, 5}));
  EXPECT_TRUE(same(stripes.of(kB), {5, 7}));
  EXPECT_TRUE(same(stripes.of(kC), {7, 10}));
}

TEST(BlockStripes, AnotherPeerWithTheSameMembersComputesTheSameStripes) {
  BlockStripes mine(1000, kSelf);
  BlockStripes theirs(1000, kC);
  for (const auto& peer : {kA, kB, kC}) mine.add(peer);
  for (const auto& peer : {kA, kB, kSelf}) theirs.add(peer);
  for (const auto& peer : {kA, kB, kC, kSelf}) EXPECT_TRUE(same(mine.of(peer), theirs.of(peer)));
}

TEST(BlockStripes, ALeavingMemberHandsItsBlocksToTheOthers) {
  BlockStripes stripes(9, kSelf);
  stripes.add(kA);
  stripes.add(kC);
  EXPECT_TRUE(same(stripes.own(), {3, 6}));
  EXPECT_TRUE(stripes.remove(kA));
  EXPECT_FALSE(stripes.remove(kA));
  EXPECT_TRUE(same(stripes.own(), {0, 4}));
  EXPECT_TRUE(same(stripes.of(kC), {4, 9}));
}

TEST(BlockStripes, OwnWithoutIsTheStripeWeWouldHaveWereThatPeerNoMember) {
  BlockStripes stripes(12, kSelf);
  stripes.add(kA);
  stripes.add(kC);
  EXPECT_TRUE(same(stripes.own_without(kA), {0, 6}));
  EXPECT_TRUE(same(stripes.own_without(kC), {6, 12}));
  EXPECT_TRUE(same(stripes.own_without(kB), stripes.own())) << "no member: nothing changes";
  EXPECT_TRUE(same(stripes.own(), {4, 8}));
}

TEST(BlockStripes, MoreMembersThanBlocksLeaveSomeStripesEmpty) {
  BlockStripes stripes(2, kSelf);
  for (const auto& peer : {kA, kB, kC}) stripes.add(peer);
  std::uint64_t covered = 0;
  for (const auto& peer : {kA, kSelf, kB, kC}) covered += stripes.of(peer).end - stripes.of(peer).begin;
  EXPECT_EQ(covered, 2u);
}

TEST(BlockStripes, HugeFilesDoNotOverflow) {
  const std::uint64_t blocks = ~std::uint64_t{0} / 2;
  BlockStripes stripes(blocks, kSelf);
  stripes.add(kA);
  stripes.add(kC);
  EXPECT_EQ(stripes.of(kC).end, blocks);
  EXPECT_EQ(stripes.own().begin, blocks / 3);
}

}  // namespace
}  // namespace sockit::cascade
