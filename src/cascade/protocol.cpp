#include "cascade/protocol.hpp"

#include <arpa/inet.h>
#include <fmt/core.h>

#include <algorithm>

#include "net/byte_order.hpp"

namespace sockit::cascade {
namespace {

constexpr std::string_view kTrackerMagic = "CASC";
constexpr std::string_view kBlockMagic = "CASCADE1";

bool starts_with_text(std::span<const std::byte> bytes, std::string_view text) {
  return bytes.size() >= text.size() &&
         std::equal(text.begin(), text.end(), bytes.begin(), [](char c, std::byte b) { return static_cast<std::byte>(c) == b; });
}

void put_text(std::byte* out, std::string_view text) {
  std::transform(text.begin(), text.end(), out, [](char c) { return static_cast<std::byte>(c); });
}

}  // namespace

std::string Endpoint::to_string() const { return fmt::format("{}:{}", ipv4_text(ip), port); }

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  if (text.starts_with("::ffff:")) text.remove_prefix(7);
  std::string copy(text);
  in_addr address{};
  if (::inet_pton(AF_INET, copy.c_str(), &address) != 1) return std::nullopt;
  return ntohl(address.s_addr);
}

std::string ipv4_text(std::uint32_t ip) {
  return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

bool is_private_ipv4(std::uint32_t ip) noexcept {
  auto in = [ip](std::uint32_t net, int bits) { return (ip >> (32 - bits)) == (net >> (32 - bits)); };
  return in(0x00000000, 8) || in(0x0a000000, 8) || in(0x7f000000, 8) || in(0xa9fe0000, 16) ||
         in(0xac100000, 12) || in(0xc0a80000, 16) || in(0x64400000, 10);
}

std::optional<std::string_view> unusable_endpoint(const Endpoint& endpoint) noexcept {
  const auto ip = endpoint.ip;
  if (ip == 0xffffffff) return "the broadcast address";
  if ((ip >> 24) == 0) return "an address of 0.0.0.0/8, which is not routable";
  if ((ip >> 28) == 0xe) return "a multicast address";
  if ((ip >> 28) == 0xf) return "a reserved address (240.0.0.0/4)";
  if (endpoint.port == 0) return "port 0";
  return std::nullopt;
}

std::array<std::byte, kTrackerRequestSize> encode_tracker_request(const TrackerRequest& request) {
  std::array<std::byte, kTrackerRequestSize> out{};
  put_text(out.data(), kTrackerMagic);
  net::store_u32(out.data() + 4, 1);
  net::store_u32(out.data() + 8, static_cast<std::uint32_t>(request.command));
  net::store_u32(out.data() + 12, kTrackerBodySize);
  std::copy(request.cascade_hash.begin(), request.cascade_hash.end(), out.begin() + 16);
  net::store_u32(out.data() + 48, request.requester.ip);
  net::store_u16(out.data() + 52, request.requester.port);
  return out;
}

TrackerParse parse_tracker_request(std::span<const std::byte> bytes, bool complete) {
  const auto n = bytes.size();
  const auto magic = bytes.first(std::min<std::size_t>(n, kTrackerMagic.size()));
  if (!starts_with_text(magic, kTrackerMagic.substr(0, magic.size())))
    return BadRequest{"wrong magic: a tracker request starts with CASC"};
  if (n >= 8) {
    const auto version = net::load_u32(bytes.data() + 4);
    if (version != 1) return BadRequest{fmt::format("unsupported protocol version {} (expected 1)", version)};
  }
  if (n >= 12) {
    const auto command = net::load_u32(bytes.data() + 8);
    if (command != 1 && command != 2)
      return BadRequest{fmt::format("unknown command {} (1 = list peers, 2 = subscribe)", command)};
  }
  if (n >= 16) {
    const auto length = net::load_u32(bytes.data() + 12);
    if (length != kTrackerBodySize)
      return BadRequest{fmt::format("body length {} (expected {})", length, kTrackerBodySize)};
  }
  if (n < kTrackerHeaderSize) {
    if (complete) return BadRequest{fmt::format("short header: {} of {} bytes", n, kTrackerHeaderSize)};
    return NeedMore{};
  }
  if (n < kTrackerRequestSize) {
    if (complete) return BadRequest{fmt::format("short body: {} of {} bytes", n - kTrackerHeaderSize, kTrackerBodySize)};
    return NeedMore{};
  }
  TrackerRequest request;
  request.command = static_cast<TrackerCommand>(net::load_u32(bytes.data() + 8));
  std::copy_n(bytes.begin() + 16, 32, request.cascade_hash.begin());
  request.requester.ip = net::load_u32(bytes.data() + 48);
  request.requester.port = net::load_u16(bytes.data() + 52);
  return request;
}

std::vector<std::byte> encode_tracker_response(std::uint8_t status, std::span<const std::byte> body) {
  std::vector<std::byte> out(5 + body.size());
  out[0] = static_cast<std::byte>(status);
  net::store_u32(out.data() + 1, static_cast<std::uint32_t>(body.size()));
  std::copy(body.begin(), body.end(), out.begin() + 5);
  return out;
}

std::vector<std::byte> encode_peer_entries(const std::vector<PeerEntry>& entries) {
  std::vector<std::byte> out(entries.size() * kPeerEntrySize);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::byte* p = out.data() + i * kPeerEntrySize;
    net::store_u32(p, entries[i].endpoint.ip);
    net::store_u16(p + 4, entries[i].endpoint.port);
    net::store_u32(p + 6, entries[i].last_seen);
    p[10] = entries[i].good ? std::byte{1} : std::byte{0};
    p[11] = std::byte{0};
  }
  return out;
}

std::vector<PeerEntry> decode_peer_entries(std::span<const std::byte> body) {
  std::vector<PeerEntry> entries;
  for (std::size_t at = 0; at + kPeerEntrySize <= body.size(); at += kPeerEntrySize) {
    const std::byte* p = body.data() + at;
    entries.push_back({{net::load_u32(p), net::load_u16(p + 4)}, net::load_u32(p + 6), p[10] != std::byte{0}});
  }
  return entries;
}

std::array<std::byte, kBlockRequestSize> encode_block_request(const BlockRequest& request) {
  std::array<std::byte, kBlockRequestSize> out{};
  put_text(out.data(), kBlockMagic);
  net::store_u64(out.data() + 24, request.index);
  std::copy(request.cascade_hash.begin(), request.cascade_hash.end(), out.begin() + 32);
  return out;
}

std::optional<BlockRequest> decode_block_request(std::span<const std::byte, kBlockRequestSize> bytes) {
  if (!starts_with_text(bytes, kBlockMagic)) return std::nullopt;
  BlockRequest request;
  request.index = net::load_u64(bytes.data() + 24);
  std::copy_n(bytes.begin() + 32, 32, request.cascade_hash.begin());
  return request;
}

std::array<std::byte, kBlockHeaderSize> encode_block_header(BlockStatus status, std::uint64_t length) {
  std::array<std::byte, kBlockHeaderSize> out{};
  out[0] = static_cast<std::byte>(status);
  net::store_u64(out.data() + 1, length);
  return out;
}

}  // namespace sockit::cascade
