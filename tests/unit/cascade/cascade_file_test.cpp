#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cascade/cascade_file.hpp"
#include "cascade/hashing.hpp"
#include "net/byte_order.hpp"
#include "net/fd.hpp"
#include "test_support.hpp"

namespace sockit::cascade {
namespace {

using sockit::testing::bytes_of;
using sockit::testing::TempDir;

std::vector<std::byte> pattern(std::size_t size) {
  std::vector<std::byte> data(size);
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<std::byte>((i * 131 + i / 251) & 0xff);
  return data;
}

CascadeFile describe(std::span<const std::byte> data, std::uint64_t block_size) {
  CascadeFile file;
  file.target_size = data.size();
  file.block_size = block_size;
  file.target_hash = sha256(data);
  for (std::uint64_t i = 0; i < file.block_count(); ++i)
    file.block_hashes.push_back(sha256(data.subspan(file.block_offset(i), file.block_length(i))));
  return file;
}

void write_file(const std::string& path, std::span<const std::byte> data) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

TEST(Sha256, KnownVectorOfAbc) {
  EXPECT_EQ(to_hex(sha256(bytes_of("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  Sha256 hash;
  hash.update(bytes_of("a"));
  hash.update(bytes_of("bc"));
  EXPECT_EQ(hash.finish(), sha256(bytes_of("abc")));
}

TEST(Sha256, HexRoundTripAndRejectsBadText) {
  const auto d = sha256(bytes_of("x"));
  EXPECT_EQ(digest_from_hex(to_hex(d)), d);
  EXPECT_FALSE(digest_from_hex("abc"));
  EXPECT_FALSE(digest_from_hex(std::string(64, 'g')));
}

TEST(CascadeFile, TrailBlockIsShorterAndCounted) {
  const auto data = pattern(2500);
  const auto file = describe(data, 1024);
  EXPECT_EQ(file.block_count(), 3u);
  EXPECT_EQ(file.block_length(0), 1024u);
  EXPECT_EQ(file.block_length(2), 452u);
}

TEST(CascadeFile, SerializeThenParseGivesTheSameFileAndItsHash) {
  const auto data = pattern(2500);
  const auto file = describe(data, 1024);
  const auto bytes = file.serialize();
  ASSERT_EQ(bytes.size(), 64u + 3 * 32);
  auto parsed = parse_cascade(bytes);
  ASSERT_TRUE(parsed) << parsed.error().what();
  EXPECT_EQ(parsed->target_size, 2500u);
  EXPECT_EQ(parsed->block_size, 1024u);
  EXPECT_EQ(parsed->target_hash, file.target_hash);
  EXPECT_EQ(parsed->block_hashes, file.block_hashes);
  EXPECT_EQ(parsed->cascade_hash, sha256(bytes));
}

TEST(CascadeFile, LayoutIsBigEndianAtTheSpecOffsets) {
  CascadeFile file;
  file.target_size = 0x0102030405060708;
  file.block_size = 1ull << 40;
  file.block_hashes.resize(file.block_count());
  const auto bytes = file.serialize();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), 8), "CASCADE1");
  for (int i = 8; i < 16; ++i) EXPECT_EQ(bytes[i], std::byte{0});
  EXPECT_EQ(net::load_u64(bytes.data() + 16), 0x0102030405060708u);
  EXPECT_EQ(bytes[16], std::byte{1});
  EXPECT_EQ(net::load_u64(bytes.data() + 24), 1ull << 40);
}

TEST(CascadeFile, ReservedBytesAndTrailingBytesAreTolerated) {
  const auto data = pattern(100);
  auto bytes = describe(data, 64).serialize();
  bytes[9] = std::byte{0x55};
  bytes.push_back(std::byte{7});
  auto parsed = parse_cascade(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->block_count(), 2u);
  EXPECT_EQ(parsed->cascade_hash, sha256(bytes));  // trailing bytes count in the identity
}

TEST(CascadeFile, TruncatedHeaderIsRefused) {
  const auto bytes = describe(pattern(100), 64).serialize();
  auto parsed = parse_cascade(std::span(bytes).first(40), "x.cascade");
  ASSERT_FALSE(parsed);
  EXPECT_NE(std::string(parsed.error().what()).find("truncated header: 40 of 64 bytes"), std::string::npos)
      << parsed.error().what();
}

TEST(CascadeFile, BadMagicIsRefused) {
  auto bytes = describe(pattern(100), 64).serialize();
  bytes[0] = std::byte{'X'};
  auto parsed = parse_cascade(bytes);
  ASSERT_FALSE(parsed);
  EXPECT_NE(std::string(parsed.error().what()).find("bad magic"), std::string::npos);
}

TEST(CascadeFile, BlockSizeZeroIsRefused) {
  auto bytes = describe(pattern(100), 64).serialize();
  net::store_u64(bytes.data() + 24, 0);
  auto parsed = parse_cascade(bytes);
  ASSERT_FALSE(parsed);
  EXPECT_NE(std::string(parsed.error().what()).find("block size is 0"), std::string::npos);
}

TEST(CascadeFile, TooFewHashesAreRefused) {
  auto bytes = describe(pattern(200), 64).serialize();  // 4 blocks
  bytes.resize(bytes.size() - 32 - 5);                   // 2 whole hashes and a partial one left... 3 - partial
  auto parsed = parse_cascade(bytes);
  ASSERT_FALSE(parsed);
  EXPECT_NE(std::string(parsed.error().what()).find("2 block hashes for 4 blocks"), std::string::npos)
      << parsed.error().what();
}

TEST(CascadeFile, TooFewHashesSaysSoInWordsThatAgreeWithTheCount) {
  auto bytes = describe(pattern(100), 64).serialize();  // 2 blocks
  bytes.resize(bytes.size() - 32);
  auto parsed = parse_cascade(bytes);
  ASSERT_FALSE(parsed);
  EXPECT_NE(std::string(parsed.error().what()).find("(1 block hash for 2 blocks (100 bytes in blocks of 64))"),
            std::string::npos)
      << parsed.error().what();
}

TEST(CascadeFile, TargetSizeClaimingMoreBlocksThanHashesIsRefused) {
  auto bytes = describe(pattern(200), 64).serialize();
  net::store_u64(bytes.data() + 16, 64 * 5);  // claims 5 blocks, has 4 hashes
  EXPECT_FALSE(parse_cascade(bytes));
}

TEST(CascadeFile, EmptyTargetHasNoBlocks) {
  auto parsed = parse_cascade(describe({}, 1024).serialize());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->block_count(), 0u);
}

TEST(CascadeFile, DefaultDataPathDropsTheSuffix) {
  EXPECT_EQ(default_data_path("dir/x.bin.cascade"), "dir/x.bin");
  EXPECT_EQ(default_data_path("x.bin"), "x.bin");
}

TEST(Hashing, DescribeDataFileMatchesInMemoryHashes) {
  TempDir dir;
  const auto data = pattern(3 * 1024 + 17);
  write_file(dir.file("d.bin"), data);
  auto file = describe_data_file(dir.file("d.bin"), 1024);
  ASSERT_TRUE(file) << file.error().what();
  const auto expected = describe(data, 1024);
  EXPECT_EQ(file->block_hashes, expected.block_hashes);
  EXPECT_EQ(file->target_hash, expected.target_hash);
}

TEST(Hashing, ParallelHashingOfALargeFileMatchesOneThread) {
  TempDir dir;
  const auto data = pattern(9 << 20);  // above the parallel threshold
  write_file(dir.file("big.bin"), data);
  auto parallel = describe_data_file(dir.file("big.bin"), 1 << 20, 3);
  auto single = describe(data, 1 << 20);
  ASSERT_TRUE(parallel);
  EXPECT_EQ(parallel->block_hashes, single.block_hashes);
  EXPECT_EQ(parallel->target_hash, single.target_hash);
}

TEST(Hashing, SaveAndLoadRoundTripThroughTheFileSystem) {
  TempDir dir;
  auto file = describe(pattern(5000), 1024);
  ASSERT_TRUE(save_cascade(file, dir.file("f.cascade")));
  auto loaded = load_cascade(dir.file("f.cascade"));
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->cascade_hash, file.cascade_hash);
  EXPECT_EQ(loaded->block_hashes, file.block_hashes);
}

TEST(Hashing, MissingCascadeFileNamesThePath) {
  auto loaded = load_cascade("/nonexistent/x.cascade");
  ASSERT_FALSE(loaded);
  EXPECT_NE(std::string(loaded.error().what()).find("/nonexistent/x.cascade"), std::string::npos);
}

TEST(Hashing, ValidBlocksFindsCorruptAndMissingBlocks) {
  TempDir dir;
  auto data = pattern(4 * 1024 + 100);
  const auto file = describe(data, 1024);
  data[1500] ^= std::byte{1};  // block 1 corrupt
  data.resize(3 * 1024 + 10);  // block 3 partial, block 4 absent
  write_file(dir.file("partial.bin"), data);
  net::Fd fd(::open(dir.file("partial.bin").c_str(), O_RDONLY | O_CLOEXEC));
  auto valid = valid_blocks(fd.get(), dir.file("partial.bin"), file);
  ASSERT_TRUE(valid);
  EXPECT_EQ(*valid, (std::vector<bool>{true, false, true, false, false}));
}

}  // namespace
}  // namespace sockit::cascade
