#include "cascade/peer_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>

#include <fmt/core.h>

#include "net/io.hpp"
#include "net/options.hpp"

namespace sockit::cascade {

net::Address address_of(const Endpoint& endpoint) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(endpoint.port);
  in.sin_addr.s_addr = htonl(endpoint.ip);
  return net::Address(reinterpret_cast<const sockaddr*>(&in), sizeof in);
}

net::Result<PeerConnection> PeerConnection::open(Endpoint peer, Clock::time_point now) {
  auto connecting = net::start_connect(address_of(peer));
  if (!connecting) return connecting.error();
  PeerConnection connection(peer, std::move(connecting->socket), !connecting->connected, now);
  if (!connection.connecting_) (void)net::set_no_delay(connection.fd(), true);
  return connection;
}

PeerConnection::PeerConnection(Endpoint peer, net::Socket socket, bool connecting, Clock::time_point now)
    : peer_(peer), socket_(std::move(socket)), connecting_(connecting), started_(now), last_progress_(now) {}

net::Result<void> PeerConnection::finish_connect(Clock::time_point now) {
  if (auto done = socket_.finish_connect(address_of(peer_)); !done) return done;
  connecting_ = false;
  last_progress_ = now;
  // Small requests must leave at once; Nagle would hold the second behind the first's ACK.
  (void)net::set_no_delay(socket_.fd(), true);
  return {};
}

void PeerConnection::request(std::uint64_t index, std::uint64_t length, const Digest& cascade_hash,
                             Clock::time_point now) {
  if (closing_) return;
  if (in_flight_.empty()) last_progress_ = now;  // the stall clock starts with the first request
  in_flight_.push_back({index, length});
  const auto bytes = encode_block_request({index, cascade_hash});
  outbuf_.insert(outbuf_.end(), bytes.begin(), bytes.end());
}

void PeerConnection::flush() {
  // Never two requests, or a request and a half, in one send(). Bounded: each pass sends at
  // least one byte of what is queued, or stops.
  while (!closing_ && !connecting_ && out_sent_ < outbuf_.size()) {
    const auto room = kBlockRequestSize - out_sent_ % kBlockRequestSize;
    auto sent = net::try_send(socket_.fd(), std::span(outbuf_).subspan(out_sent_, room));
    if (!sent) return close_later(sent.error().what());
    if (!*sent) break;
    out_sent_ += **sent;
  }
  if (out_sent_ == outbuf_.size()) {
    outbuf_.clear();
    out_sent_ = 0;
  }
}

void PeerConnection::read_some(Clock::time_point now, const std::function<void(const Answer&)>& on_answer) {
  for (int reads = 0; reads < kReadsPerEvent && !closing_; ++reads) {
    auto got = net::try_recv(socket_.fd(), parser_.space());
    if (!got) return close_later(got.error().what());
    if (!*got) return;
    if (**got == 0)
      return close_later(parser_.idle() ? "closed the connection" : "closed the connection in the middle of an answer");
    last_progress_ = now;
    const std::optional<std::uint64_t> expected =
        in_flight_.empty() ? std::nullopt : std::optional(in_flight_.front().length);
    auto step = parser_.commit(**got, expected);
    if (auto* bad = std::get_if<BadAnswer>(&step)) {
      if (bad->kind != BadAnswer::Kind::wrong_block_length) return close_later(bad->message);
      return close_later(fmt::format("block {}: {}", in_flight_.front().index, bad->message), true);
    }
    auto* answer = std::get_if<BlockAnswer>(&step);
    if (!answer || answer->stray) continue;
    const auto index = in_flight_.front().index;
    in_flight_.pop_front();
    on_answer({index, answer->status, answer->body});
  }
}

std::uint32_t PeerConnection::interest() const noexcept {
  return EPOLLIN | (connecting_ || !outbuf_.empty() ? EPOLLOUT : 0u);
}

void PeerConnection::close_later(std::string reason, bool ban) {
  if (closing_) return;
  closing_ = true;
  ban_ = ban;
  close_reason_ = std::move(reason);
}

}  // namespace sockit::cascade
