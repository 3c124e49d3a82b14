#include "cascade/tracker_exchange.hpp"

#include <sys/epoll.h>

#include <fmt/core.h>

#include "net/byte_order.hpp"
#include "net/io.hpp"
#include "net/text.hpp"

namespace sockit::cascade {

net::Result<TrackerExchange> TrackerExchange::start(const net::Address& tracker, TrackerCommand command,
                                                    const Digest& cascade_hash, Endpoint self) {
  auto connecting = net::start_connect(tracker);
  if (!connecting) return connecting.error();
  return TrackerExchange(std::move(connecting->socket), connecting->connected, tracker, command, cascade_hash, self);
}

TrackerExchange::TrackerExchange(net::Socket socket, bool connected, const net::Address& tracker,
                                 TrackerCommand command, const Digest& cascade_hash, Endpoint self)
    : socket_(std::move(socket)),
      state_(State::connecting),
      tracker_(tracker),
      command_(command),
      cascade_hash_(cascade_hash),
      self_(self) {
  if (connected) state_ = State::sending;
}

net::Error TrackerExchange::protocol_error(std::string detail) const {
  return net::Error("tracker request", net::Errc::protocol, tracker_.to_string(), std::move(detail));
}

std::optional<TrackerExchange::Outcome> TrackerExchange::advance(std::uint32_t events) {
  if (state_ == State::connecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return std::nullopt;
    if (auto done = socket_.finish_connect(tracker_); !done) return Outcome(done.error());
    state_ = State::sending;
  }
  if (state_ == State::sending) {
    if (sent_ == 0) {
      if (self_.ip == 0) {  // listening on every address: register the one the tracker sees
        if (auto local = socket_.local_address())
          if (auto ip = parse_ipv4(local->host())) self_.ip = *ip;
      }
      request_ = encode_tracker_request({command_, cascade_hash_, self_});
    }
    if (auto over = send()) return over;
    if (state_ == State::sending) return std::nullopt;
  }
  return receive();
}

// The request goes in one send(): the course tracker reads it with a single recv. A fresh
// socket's buffer always takes 54 bytes, so the rest-of-request path is only for robustness.
std::optional<TrackerExchange::Outcome> TrackerExchange::send() {
  auto sent = net::try_send(socket_.fd(), std::span(request_).subspan(sent_));
  if (!sent) return Outcome(sent.error());
  if (!*sent) return std::nullopt;
  sent_ += **sent;
  if (sent_ == request_.size()) state_ = State::receiving;
  return std::nullopt;
}

// Reads until the answer is complete or the socket has nothing more for now. Bounded: every
// pass takes at least one byte of an answer of at most 5 + kMaxBody bytes.
std::optional<TrackerExchange::Outcome> TrackerExchange::receive() {
  for (;;) {
    const bool in_body = header_got_ == header_.size();
    auto into = in_body ? std::span(body_).subspan(body_got_) : std::span(header_).subspan(header_got_);
    if (in_body && into.empty()) {
      const auto status = std::to_integer<unsigned>(header_[0]);
      // The tracker's text goes to a terminal or a log: printable only, and not too long.
      if (status != 0)
        return Outcome(protocol_error(fmt::format("status {}: {}", status, net::printable(net::as_text(body_)))));
      return Outcome(decode_peer_entries(body_));
    }
    auto got = net::try_recv(socket_.fd(), into);
    if (!got) return Outcome(got.error());
    if (!*got) return std::nullopt;
    if (**got == 0) {
      const auto need = in_body ? header_.size() + body_.size() : header_.size();
      const auto have = header_got_ + body_got_;
      return Outcome(net::Error("tracker request", net::Errc::unexpected_eof, tracker_.to_string(),
                                fmt::format("the tracker closed after {} of {} bytes", have, need)));
    }
    if (in_body) {
      body_got_ += **got;
      continue;
    }
    header_got_ += **got;
    if (header_got_ < header_.size()) continue;
    const auto length = net::load_u32(header_.data() + 1);
    if (length > kMaxBody) return Outcome(protocol_error(fmt::format("an answer of {} bytes (at most {})", length, kMaxBody)));
    body_.resize(length);
  }
}

std::string tracker_failure(const net::Address& tracker, const net::Error& error) {
  const auto where = tracker.to_string();
  const std::string what = error.what();
  if (what.find(where) != std::string::npos) return "tracker: " + what;
  return fmt::format("tracker {}: {}", where, what);
}

}  // namespace sockit::cascade
