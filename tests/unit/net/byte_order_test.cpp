#include "net/byte_order.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>

namespace sockit::net {
namespace {

constexpr std::array<std::byte, 4> wire_u32(std::uint32_t v) {
  std::array<std::byte, 4> out{};
  store_u32(out.data(), v);
  return out;
}

// Usable at compile time.
static_assert(wire_u32(0x01020304)[0] == std::byte{0x01});
static_assert(wire_u32(0x01020304)[3] == std::byte{0x04});
static_assert(load_u32(wire_u32(0xdeadbeef).data()) == 0xdeadbeef);

TEST(ByteOrder, I16MatchesStructPackNetworkOrder) {
  std::byte out[2];
  store_i16(out, -2);  // struct.pack("!h", -2) == b"\xff\xfe"
  EXPECT_EQ(out[0], std::byte{0xff});
  EXPECT_EQ(out[1], std::byte{0xfe});
  EXPECT_EQ(load_i16(out), -2);
  store_i16(out, 32767);
  EXPECT_EQ(out[0], std::byte{0x7f});
  EXPECT_EQ(load_i16(out), 32767);
}

TEST(ByteOrder, U64RoundTripsMostSignificantByteFirst) {
  std::byte out[8];
  store_u64(out, 0x0102030405060708ULL);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(std::to_integer<int>(out[i]), i + 1);
  EXPECT_EQ(load_u64(out), 0x0102030405060708ULL);
}

TEST(ByteOrder, HostToNetworkAgreesWithHtonlAndHtons) {
  EXPECT_EQ(host_to_network<std::uint32_t>(0x01020304), htonl(0x01020304));
  EXPECT_EQ(host_to_network<std::uint16_t>(0x0102), htons(0x0102));
  EXPECT_EQ(network_to_host(host_to_network<std::uint64_t>(0x1122334455667788ULL)), 0x1122334455667788ULL);
}

}  // namespace
}  // namespace sockit::net
