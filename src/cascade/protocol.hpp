#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cascade/sha256.hpp"

namespace sockit::cascade {

// The two wire protocols of cascade-protocol.md §2 and §3, as pure encode/decode functions.

/// An IPv4 listening address as the tracker stores it (both in host order).
struct Endpoint {
  std::uint32_t ip = 0;
  std::uint16_t port = 0;
  auto operator<=>(const Endpoint&) const = default;
  /// "1.2.3.4:5"
  std::string to_string() const;
};
/// "1.2.3.4" as a host-order u32, or nullopt (also for "::ffff:1.2.3.4", an IPv4-mapped address).
std::optional<std::uint32_t> parse_ipv4(std::string_view text);
std::string ipv4_text(std::uint32_t ip);
/// RFC 1918, loopback, link-local, CGNAT, "this network": what ban-private refuses.
bool is_private_ipv4(std::uint32_t ip) noexcept;
/// Why `endpoint` cannot be where a peer listens, or nullopt when it can be: port 0, an address
/// of 0.0.0.0/8 ("this network": connecting to it reaches the connecting host itself), multicast
/// (224.0.0.0/4), the limited broadcast 255.255.255.255 and the rest of 240.0.0.0/4 (reserved).
std::optional<std::string_view> unusable_endpoint(const Endpoint& endpoint) noexcept;

// ---- tracker (§2) ----

enum class TrackerCommand : std::uint32_t { list = 1, subscribe = 2 };

inline constexpr std::size_t kTrackerHeaderSize = 16;
inline constexpr std::size_t kTrackerBodySize = 38;
inline constexpr std::size_t kTrackerRequestSize = kTrackerHeaderSize + kTrackerBodySize;  // 54
inline constexpr std::size_t kPeerEntrySize = 12;

struct TrackerRequest {
  TrackerCommand command = TrackerCommand::list;
  Digest cascade_hash{};
  Endpoint requester;
};

/// One entry of a tracker's answer.
struct PeerEntry {
  Endpoint endpoint;
  std::uint32_t last_seen = 0;  ///< Unix time (the course packs it signed; same bytes until 2038)
  bool good = false;
};

/// The 54 bytes to send in one write.
std::array<std::byte, kTrackerRequestSize> encode_tracker_request(const TrackerRequest& request);

/// What the bytes received so far say: wait for more, a request, or what is wrong with them.
struct NeedMore {};
struct BadRequest {
  std::string message;
};
using TrackerParse = std::variant<NeedMore, TrackerRequest, BadRequest>;
/// Checks as early as the bytes allow (magic after 4 bytes, version after 8, ...). With
/// `complete` (the client half-closed) a short request is an error instead of NeedMore.
TrackerParse parse_tracker_request(std::span<const std::byte> bytes, bool complete);

/// Status byte, u32 length, body.
std::vector<std::byte> encode_tracker_response(std::uint8_t status, std::span<const std::byte> body);
std::vector<std::byte> encode_peer_entries(const std::vector<PeerEntry>& entries);
/// A success body's entries (a trailing partial entry is ignored).
std::vector<PeerEntry> decode_peer_entries(std::span<const std::byte> body);

// ---- peer block protocol (§3) ----

inline constexpr std::size_t kBlockRequestSize = 64;
inline constexpr std::size_t kBlockHeaderSize = 9;

enum class BlockStatus : std::uint8_t { ok = 0, unknown_file = 1, missing = 2, past_end = 3, malformed = 4 };

struct BlockRequest {
  std::uint64_t index = 0;
  Digest cascade_hash{};
};

std::array<std::byte, kBlockRequestSize> encode_block_request(const BlockRequest& request);
/// A whole 64-byte request, or nullopt when its magic is wrong.
std::optional<BlockRequest> decode_block_request(std::span<const std::byte, kBlockRequestSize> bytes);
/// Status byte and u64 body length.
std::array<std::byte, kBlockHeaderSize> encode_block_header(BlockStatus status, std::uint64_t length);

}  // namespace sockit::cascade
