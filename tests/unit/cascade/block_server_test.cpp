#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <map>

#include "cascade/block_server.hpp"
#include "net/byte_order.hpp"
#include "net/io.hpp"
#include "session_test_support.hpp"
#include "test_support.hpp"

namespace sockit::cascade {
namespace {

using sockit::testing::offer;

using sockit::testing::bytes_of;
using sockit::testing::text_of;

const Digest kServed = sha256(bytes_of("served"));

// A file of three blocks ("block zero", a missing one, "two"), 10 bytes apart.
class MemoryProvider : public BlockProvider {
 public:
  MemoryProvider() : file_(std::make_shared<const net::Fd>(::memfd_create("blocks", MFD_CLOEXEC))) {
    const std::string data = "block zero??????????two";
    EXPECT_EQ(::write(file_->get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }
  BlockStatus locate_block(const Digest& hash, std::uint64_t index, serve::FileRange& out) const override {
    if (hash != kServed) return BlockStatus::unknown_file;
    if (index >= 3) return BlockStatus::past_end;
    if (index == 1) return BlockStatus::missing;
    out = serve::FileRange{file_, index * 10, index == 0 ? 10u : 3u};
    return BlockStatus::ok;
  }

 private:
  std::shared_ptr<const net::Fd> file_;
};

struct Reply {
  unsigned status;
  std::string body;
};

std::vector<Reply> replies(const serve::Output& out) {
  std::vector<Reply> all;
  const auto text = sockit::testing::received(out);
  auto bytes = net::as_bytes(text);
  while (bytes.size() >= kBlockHeaderSize) {
    const auto length = net::load_u64(bytes.data() + 1);
    EXPECT_GE(bytes.size(), kBlockHeaderSize + length);
    all.push_back({std::to_integer<unsigned>(bytes[0]), text_of(bytes.subspan(kBlockHeaderSize, length))});
    bytes = bytes.subspan(kBlockHeaderSize + length);
  }
  EXPECT_TRUE(bytes.empty()) << "trailing bytes after the last answer";
  return all;
}

std::vector<std::byte> requests_for(std::initializer_list<std::uint64_t> blocks) {
  std::vector<std::byte> stream;
  for (auto i : blocks) {
    const auto r = encode_block_request({i, kServed});
    stream.insert(stream.end(), r.begin(), r.end());
  }
  return stream;
}

class BlockSessionTest : public ::testing::Test {
 protected:
  BlockService service_{std::make_shared<MemoryProvider>()};
  std::unique_ptr<serve::Session> session_ = service_.new_session({});
  serve::Output out_;
};

TEST_F(BlockSessionTest, HeldBlockComesWithItsExactLengthAndKeepsTheConnection) {
  auto request = encode_block_request({0, kServed});
  EXPECT_EQ(offer(*session_, request, out_), serve::Verdict::keep_going);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 0u);
  EXPECT_EQ(all[0].body, "block zero");
}

TEST_F(BlockSessionTest, PipelinedRequestsSplitAnywhereAreAnsweredInOrder) {
  const auto stream = requests_for({2, 0, 2});
  for (std::size_t at = 0; at < stream.size(); at += 50)
    EXPECT_EQ(offer(*session_, std::span(stream).subspan(at, std::min<std::size_t>(50, stream.size() - at)), out_),
              serve::Verdict::keep_going);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].body, "two");
  EXPECT_EQ(all[1].body, "block zero");
  EXPECT_EQ(all[2].body, "two");
}

TEST_F(BlockSessionTest, BlockBodiesAreFileRangesNotCopies) {
  EXPECT_EQ(offer(*session_, encode_block_request({0, kServed}), out_), serve::Verdict::keep_going);
  EXPECT_EQ(out_.text().size(), kBlockHeaderSize) << "only the header is in memory";
  std::vector<serve::Output::Piece> pieces;
  out_.for_each([&](const serve::Output::Piece& piece) { pieces.push_back(piece); });
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_FALSE(pieces[0].is_file());
  EXPECT_TRUE(pieces[1].is_file());
  EXPECT_EQ(pieces[1].offset, 0u);
  EXPECT_EQ(pieces[1].length, 10u);
}

TEST_F(BlockSessionTest, StopsTakingRequestsWhenTheBudgetIsSpentAndGoesOnWhereItStopped) {
  const auto stream = requests_for({0, 2, 0, 2, 0});
  serve::Output out(15);  // one header and block zero (19 bytes) spend it
  auto taken = session_->receive(stream, out);
  EXPECT_EQ(taken.verdict, serve::Verdict::keep_going);
  EXPECT_EQ(taken.bytes, kBlockRequestSize) << "one request answered, the others left for later";
  EXPECT_TRUE(out.full());
  std::string all = sockit::testing::received(out);
  for (std::size_t at = taken.bytes; at < stream.size(); at += taken.bytes) {
    serve::Output more(15);
    taken = session_->receive(std::span(stream).subspan(at), more);
    ASSERT_GT(taken.bytes, 0u) << "an empty output has room for one more answer";
    all += sockit::testing::received(more);
  }
  serve::Output whole;
  EXPECT_EQ(offer(*service_.new_session({}), stream, whole), serve::Verdict::keep_going);
  EXPECT_EQ(all, sockit::testing::received(whole)) << "the same answers, in the same order";
}

TEST_F(BlockSessionTest, LackingBlockIsStatusTwoAndTheConnectionStaysOpen) {
  EXPECT_EQ(offer(*session_, encode_block_request({1, kServed}), out_), serve::Verdict::keep_going);
  EXPECT_EQ(offer(*session_, encode_block_request({0, kServed}), out_), serve::Verdict::keep_going);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].status, 2u);
  EXPECT_EQ(all[0].body, "block 1 is not here (yet)");
  EXPECT_EQ(all[1].status, 0u);
}

TEST_F(BlockSessionTest, UnknownHashIsStatusOneAndCloses) {
  EXPECT_EQ(offer(*session_, encode_block_request({0, sha256(bytes_of("nope"))}), out_), serve::Verdict::close);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 1u);
  EXPECT_NE(all[0].body.find("no file with cascade hash"), std::string::npos);
}

TEST_F(BlockSessionTest, BlockPastTheEndIsStatusThreeAndCloses) {
  EXPECT_EQ(offer(*session_, encode_block_request({3, kServed}), out_), serve::Verdict::close);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 3u);
  EXPECT_EQ(all[0].body, "block 3 is past the end of the file");
}

TEST_F(BlockSessionTest, BadMagicIsStatusFourAndCloses) {
  auto request = encode_block_request({0, kServed});
  request[0] = std::byte{'x'};
  EXPECT_EQ(offer(*session_, request, out_), serve::Verdict::close);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 4u);
}

TEST(BlockSessionLog, AComplaintLeavesThePeerToTheModelWhichPrefixesIt) {
  BlockService service{std::make_shared<MemoryProvider>()};
  serve::SessionContext context;
  context.peer = "10.1.2.3:4444";
  auto session = service.new_session(context);
  serve::Output out;
  EXPECT_EQ(offer(*session, encode_block_request({3, kServed}), out), serve::Verdict::close);
  ASSERT_EQ(session->complaints().size(), 1u);
  EXPECT_EQ(session->complaints()[0], "block request: block 3 is past the end of the file");
}

TEST_F(BlockSessionTest, ShortRequestThenEndOfInputIsStatusFour) {
  auto request = encode_block_request({0, kServed});
  EXPECT_EQ(offer(*session_, std::span(request).first(20), out_), serve::Verdict::keep_going);
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
  EXPECT_EQ(offer(*session_, request, out_), serve::Verdict::keep_going);
  EXPECT_EQ(replies(out_).at(0).status, 0u);
}

TEST(Protocol, BlockRequestLayout) {
  auto r = encode_block_request({0x0102030405060708, kServed});
  EXPECT_EQ(text_of(std::span(r).first(8)), "CASCADE1");
  for (int i = 8; i < 24; ++i) EXPECT_EQ(r[i], std::byte{0});
  EXPECT_EQ(net::load_u64(r.data() + 24), 0x0102030405060708u);
  EXPECT_TRUE(std::equal(kServed.begin(), kServed.end(), r.begin() + 32));
}

TEST_F(BlockSessionTest, APartRequestIsMidRequestAndALateOneGetsStatusFour) {
  const auto request = encode_block_request({0, kServed});
  EXPECT_FALSE(session_->mid_request());
  offer(*session_, std::span(request).first(10), out_);
  EXPECT_TRUE(session_->mid_request());
  session_->request_timed_out("request not complete within 10 s", out_);
  auto all = replies(out_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 4u);
  EXPECT_EQ(all[0].body, "request not complete within 10 s");
}

}  // namespace
}  // namespace sockit::cascade
