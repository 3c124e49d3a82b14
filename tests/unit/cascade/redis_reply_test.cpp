#include <gtest/gtest.h>

#include <string>

#include "cascade/redis_reply.hpp"
#include "test_support.hpp"

namespace sockit::cascade {
namespace {

using sockit::testing::bytes_of;

std::unique_ptr<RedisReply> parse(RedisReplyReader& reader, std::string_view bytes) {
  EXPECT_TRUE(reader.feed(bytes_of(bytes)));
  auto reply = reader.next();
  EXPECT_TRUE(reply) << reply.error().what();
  return reply ? std::move(*reply) : nullptr;
}

TEST(RedisCommand, IsAnArrayOfBulkStringsBinarySafe) {
  const std::string_view args[] = {"SET", "k", std::string_view("a\0b", 3)};
  EXPECT_EQ(format_redis_command(args), std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\0b\r\n", 29));
}

TEST(RedisReplyReader, ReadsEveryKindWhateverTheSplit) {
  const std::string bytes = "*5\r\n+OK\r\n-ERR nope\r\n:42\r\n$-1\r\n*1\r\n$3\r\nabc\r\n";
  RedisReplyReader reader(1 << 20, 16);
  for (std::size_t at = 0; at + 1 < bytes.size(); ++at) {
    ASSERT_TRUE(reader.feed(bytes_of(std::string_view(bytes).substr(at, 1))));
    auto none = reader.next();
    ASSERT_TRUE(none);
    ASSERT_EQ(*none, nullptr) << "a reply before its last byte, at " << at;
  }
  auto reply = parse(reader, bytes.substr(bytes.size() - 1));
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->kind, RedisReply::Kind::array);
  ASSERT_EQ(reply->elements.size(), 5u);
  EXPECT_EQ(reply->elements[0]->kind, RedisReply::Kind::status);
  EXPECT_EQ(*reply->elements[0]->string(), "OK");
  EXPECT_TRUE(reply->elements[1]->is_error());
  EXPECT_EQ(reply->elements[1]->text, "ERR nope");
  EXPECT_EQ(reply->elements[1]->string(), nullptr);
  EXPECT_EQ(reply->elements[2]->integer, 42);
  EXPECT_EQ(reply->elements[3]->kind, RedisReply::Kind::nil);
  EXPECT_EQ(*reply->elements[4]->elements[0]->string(), "abc");
}

TEST(RedisReplyReader, RepliesComeOutOneAtATime) {
  RedisReplyReader reader(1 << 20, 16);
  auto first = parse(reader, "+one\r\n+two\r\n");
  EXPECT_EQ(first->text, "one");
  auto second = reader.next();
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->text, "two");
}

// hiredis 0.14 callocs whatever an array declares: a server saying "two billion elements" would
// take 16 GB before a single element arrived.
TEST(RedisReplyReader, AHugeDeclaredArrayIsRefusedBeforeAnythingIsAllocated) {
  RedisReplyReader reader(1 << 20, 4096);
  ASSERT_TRUE(reader.feed(bytes_of("*2000000000\r\n")));
  auto reply = reader.next();
  ASSERT_FALSE(reply);
  EXPECT_STREQ(reply.error().what(),
               "read a Redis reply failed: Protocol error (an array of 2000000000 elements (at most 4096))");
}

TEST(RedisReplyReader, ANestedHugeArrayIsRefusedToo) {
  RedisReplyReader reader(1 << 20, 4);
  ASSERT_TRUE(reader.feed(bytes_of("*2\r\n:1\r\n*5\r\n")));
  EXPECT_FALSE(reader.next());
}

TEST(RedisReplyReader, AReplyPastTheByteBoundIsAnError) {
  RedisReplyReader reader(64, 16);
  ASSERT_TRUE(reader.feed(bytes_of("$100\r\n")));
  ASSERT_TRUE(reader.next());
  auto fed = reader.feed(bytes_of(std::string(100, 'x')));
  ASSERT_FALSE(fed);
  EXPECT_NE(std::string(fed.error().what()).find("a reply of more than 64 bytes"), std::string::npos);
}

TEST(RedisReplyReader, BytesThatAreNotRespAreAnError) {
  RedisReplyReader reader(1 << 20, 16);
  ASSERT_TRUE(reader.feed(bytes_of("HTTP/1.1 200 OK\r\n")));
  auto reply = reader.next();
  ASSERT_FALSE(reply);
  EXPECT_NE(std::string(reply.error().what()).find("Protocol error"), std::string::npos);
}

}  // namespace
}  // namespace sockit::cascade
