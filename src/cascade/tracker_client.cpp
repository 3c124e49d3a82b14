#include "cascade/tracker_client.hpp"

#include <fmt/core.h>

#include "net/byte_order.hpp"
#include "net/io.hpp"
#include "net/socket.hpp"

namespace sockit::cascade {

net::Result<std::vector<PeerEntry>> ask_tracker(const net::Address& tracker, TrackerCommand command,
                                                const Digest& hash, Endpoint& self,
                                                std::chrono::milliseconds timeout) {
  const auto deadline = net::Deadline::after(timeout);
  const auto where = tracker.to_string();
  auto socket = net::connect_to(tracker, timeout);
  if (!socket) return socket.error();
  if (self.ip == 0) {
    auto local = socket->local_address();
    if (local)
      if (auto ip = parse_ipv4(local->host())) self.ip = *ip;
  }
  const auto request = encode_tracker_request({command, hash, self});
  if (auto sent = net::send_all(socket->fd(), request, deadline); !sent) return sent.error();
  std::array<std::byte, 5> header{};
  if (auto got = net::recv_exact(socket->fd(), header, deadline); !got) return got.error();
  const auto status = std::to_integer<unsigned>(header[0]);
  const auto length = net::load_u32(header.data() + 1);
  constexpr std::uint32_t kMaxBody = 1 << 20;
  if (length > kMaxBody)
    return net::Error("tracker request", net::Errc::protocol, where, fmt::format("answer of {} bytes", length));
  std::vector<std::byte> body(length);
  if (auto got = net::recv_exact(socket->fd(), body, deadline); !got) return got.error();
  if (status != 0)
    return net::Error("tracker request", net::Errc::protocol, where,
                      fmt::format("status {}: {}", status, net::as_text(body)));
  return decode_peer_entries(body);
}

}  // namespace sockit::cascade
