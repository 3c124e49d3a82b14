#include <gtest/gtest.h>

#include <map>

#include "cascade/block_server.hpp"
#include "net/byte_order.hpp"
#include "test_support.hpp"

namespace sockit::cascade {
namespace {

using sockit::testing::bytes_of;
using sockit::testing::text_of;

const Digest kServed = sha256(bytes_of("served"));

// An in-memory file of three blocks of which block 1 is not held yet.
class MemoryProvider : public BlockProvider {
 public:
  BlockStatus read_block(const Digest& hash, std::uint64_t index, std::vector<std::byte>& out) const override {
    if (hash != kServed) return BlockStatus::unknown_file;
    if (index >= 3) return BlockStatus::past_end;
    if (index == 1) return BlockStatus::missing;
    const std::string text = index == 0 ? "block zero" : "two";
    auto bytes = bytes_of(text);
    out.assign(bytes.begin(), bytes.end());
    return BlockStatus::ok;
  }
};

struct Reply {
  unsigned status;
  std::string body;
};

std::vector<Reply> replies(const serve::Output& out) {
  std::vector<Reply> all;
  auto bytes = out.bytes();
  while (bytes.size() >= kBlockHeaderSize) {
    const auto length = net::load_u64(bytes.data() + 1);
    EXPECT_GE(bytes.size(), kBlockHeaderSize + length);
    all.push_back({std::to_integer<unsigned>(bytes[0]), text_of(bytes.subspan(kBlockHeaderSize, length))});
    bytes = bytes.subspan(kBlockHeaderSize + length);
  }
  EXPECT_TRUE(bytes.empty()) << "trailing bytes after the last answer";
  return all;
}

class BlockSessionTest : public ::testing::Test {
 protected:
  BlockService service_{std::make_shared<MemoryProvider>()};
  std::unique_ptr<serve::Session> session_ = service_.new_session({});
  serve::Output out_;
};

TEST_F(BlockSessionTest, HeldBlockComesWithItsExactLengthAndKeepsTheConnection) {
  auto request = encode_block_request({0, kServed});
  EXPECT_EQ(session_->receive(request, out_), serve::Verdict::keep_going);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 0u);
  EXPECT_EQ(all[0].body, "block zero");
}

TEST_F(BlockSessionTest, PipelinedRequestsSplitAnywhereAreAnsweredInOrder) {
  std::vector<std::byte> stream;
  for (std::uint64_t i : {2, 0, 2}) {
    auto r = encode_block_request({i, kServed});
    stream.insert(stream.end(), r.begin(), r.end());
  }
  for (std::size_t at = 0; at < stream.size(); at += 50)
    EXPECT_EQ(session_->receive(std::span(stream).subspan(at, std::min<std::size_t>(50, stream.size() - at)), out_),
              serve::Verdict::keep_going);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].body, "two");
  EXPECT_EQ(all[1].body, "block zero");
  EXPECT_EQ(all[2].body, "two");
}

TEST_F(BlockSessionTest, LackingBlockIsStatusTwoAndTheConnectionStaysOpen) {
  EXPECT_EQ(session_->receive(encode_block_request({1, kServed}), out_), serve::Verdict::keep_going);
  EXPECT_EQ(session_->receive(encode_block_request({0, kServed}), out_), serve::Verdict::keep_going);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].status, 2u);
  EXPECT_EQ(all[0].body, "block 1 is not here (yet)");
  EXPECT_EQ(all[1].status, 0u);
}

TEST_F(BlockSessionTest, UnknownHashIsStatusOneAndCloses) {
  EXPECT_EQ(session_->receive(encode_block_request({0, sha256(bytes_of("nope"))}), out_), serve::Verdict::close);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 1u);
  EXPECT_NE(all[0].body.find("no file with cascade hash"), std::string::npos);
}

TEST_F(BlockSessionTest, BlockPastTheEndIsStatusThreeAndCloses) {
  EXPECT_EQ(session_->receive(encode_block_request({3, kServed}), out_), serve::Verdict::close);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 3u);
  EXPECT_EQ(all[0].body, "block 3 is past the end of the file");
}

TEST_F(BlockSessionTest, BadMagicIsStatusFourAndCloses) {
  auto request = encode_block_request({0, kServed});
  request[0] = std::byte{'x'};
  EXPECT_EQ(session_->receive(request, out_), serve::Verdict::close);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 4u);
}

TEST_F(BlockSessionTest, ShortRequestThenEndOfInputIsStatusFour) {
  auto request = encode_block_request({0, kServed});
  EXPECT_EQ(session_->receive(std::span(request).first(20), out_), serve::Verdict::keep_going);
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(session_->end_of_input(out_), serve::Verdict::close);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 4u);
  EXPECT_EQ(all[0].body, "short request: 20 of 64 bytes");
}

TEST_F(BlockSessionTest, NonZeroReservedBytesAreTolerated) {
  auto request = encode_block_request({2, kServed});
  request[10] = std::byte{0xff};
  EXPECT_EQ(session_->receive(request, out_), serve::Verdict::keep_going);
  EXPECT_EQ(replies(out_).at(0).status, 0u);
}

TEST(Protocol, BlockRequestLayout) {
  auto r = encode_block_request({0x0102030405060708, kServed});
  EXPECT_EQ(text_of(std::span(r).first(8)), "CASCADE1");
  for (int i = 8; i < 24; ++i) EXPECT_EQ(r[i], std::byte{0});
  EXPECT_EQ(net::load_u64(r.data() + 24), 0x0102030405060708u);
  EXPECT_TRUE(std::equal(kServed.begin(), kServed.end(), r.begin() + 32));
}

}  // namespace
}  // namespace sockit::cascade
