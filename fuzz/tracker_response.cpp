// The client side of a tracker exchange (cascade-protocol.md §2): a real TrackerExchange over a
// Unix socket to a "tracker" that answers with the input, written in random pieces, perhaps
// closing early. The exchange sends exactly the 54-byte request, finishes as soon as (and not
// before) the answer is complete, refuses an answer above its bound, and its peers are exactly
// the body's entries (decode_peer_entries, checked against its encoder too).
#include <sys/epoll.h>
#include <sys/socket.h>

#include <chrono>

#include "cascade/protocol.hpp"
#include "cascade/tracker_exchange.hpp"
#include "net/byte_order.hpp"
#include "net/io.hpp"
#include "net/socket.hpp"
#include "support/check.hpp"
#include "support/temp_dir.hpp"

#include <fuzzer/FuzzedDataProvider.h>

using namespace sockit;

namespace sockit::cascade {
// For comparing peer lists (protocol.hpp has none: nothing else needs it).
static bool operator==(const PeerEntry& a, const PeerEntry& b) {
  return a.endpoint == b.endpoint && a.last_seen == b.last_seen && a.good == b.good;
}
}  // namespace sockit::cascade

namespace {

struct Tracker {
  fuzz::TempDir dir;
  net::Address address = net::Address::unix_path(dir.file("tracker")).value();
  net::Socket listener = net::listen_on(address).value();
};

net::Deadline soon() { return net::Deadline::after(std::chrono::seconds(2)); }

// How many bytes the exchange needs before it can decide, for the answer sent so far.
std::size_t needed(std::string_view sent) {
  if (sent.size() < 5) return 5;
  const auto length = net::load_u32(fuzz::bytes_of(sent).data() + 1);
  if (length > cascade::TrackerExchange::kMaxBody) return 5;
  return 5 + length;
}

void check_entries(std::span<const std::byte> body) {
  const auto entries = cascade::decode_peer_entries(body);
  fuzz::require(entries.size() == body.size() / cascade::kPeerEntrySize, "not one entry per 12 bytes");
  auto expected = std::vector<std::byte>(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(entries.size() * 12));
  for (std::size_t i = 0; i < entries.size(); ++i) {  // the encoder writes good as 0/1 and a zero pad byte
    expected[i * 12 + 10] = expected[i * 12 + 10] != std::byte{0} ? std::byte{1} : std::byte{0};
    expected[i * 12 + 11] = std::byte{0};
  }
  fuzz::require(cascade::encode_peer_entries(entries) == expected, "peer entries do not re-encode to their bytes");
}

void check_outcome(const cascade::TrackerExchange::Outcome& outcome, std::string_view sent, bool closed) {
  const auto need = needed(sent);
  const auto bytes = fuzz::bytes_of(sent);
  if (sent.size() < need) {
    fuzz::require(closed && !outcome, "an outcome before the answer was complete");
    fuzz::require(outcome.error().code() == net::make_error_code(net::Errc::unexpected_eof),
                  "a short answer is not an unexpected EOF");
    return;
  }
  const auto length = net::load_u32(bytes.data() + 1);
  if (length > cascade::TrackerExchange::kMaxBody || bytes[0] != std::byte{0}) {
    fuzz::require(!outcome, "an oversize or refusing answer gave peers");
    return;
  }
  fuzz::require(outcome.has_value(), "a complete answer with status 0 failed");
  fuzz::require(*outcome == cascade::decode_peer_entries(bytes.subspan(5, length)), "the peers are not the body's");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Tracker tracker;
  FuzzedDataProvider fdp(data, size);
  const auto command = fdp.ConsumeBool() ? cascade::TrackerCommand::list : cascade::TrackerCommand::subscribe;
  cascade::Digest hash{};
  hash[0] = std::byte{fdp.ConsumeIntegral<std::uint8_t>()};
  const cascade::Endpoint self{fdp.ConsumeIntegral<std::uint32_t>(), fdp.ConsumeIntegral<std::uint16_t>()};

  auto exchange = cascade::TrackerExchange::start(tracker.address, command, hash, self).value();
  auto server = tracker.listener.accept().value();
  std::optional<cascade::TrackerExchange::Outcome> outcome;
  for (int i = 0; i < 4 && exchange.wants_write() && !outcome; ++i) outcome = exchange.advance(EPOLLOUT);
  fuzz::require(!outcome && !exchange.wants_write(), "the request did not go out");
  std::array<std::byte, cascade::kTrackerRequestSize> request{};
  fuzz::require(net::recv_exact(server.fd(), request, soon()).has_value(), "no request arrived");
  fuzz::require(request == cascade::encode_tracker_request({command, hash, exchange.self()}), "a wrong request");

  const bool close_at_end = fdp.ConsumeBool();
  std::string sent;
  bool closed = false;
  while (!outcome) {
    if (fdp.remaining_bytes() == 0 && !close_at_end) break;  // the owner gives up on the exchange
    if (fdp.remaining_bytes() == 0 || fdp.ConsumeIntegralInRange<int>(0, 15) == 0) {
      fuzz::require(server.shutdown(SHUT_WR).has_value(), "shutdown failed");
      closed = true;
    } else {
      const auto chunk = fdp.ConsumeBytesAsString(fdp.ConsumeIntegralInRange<std::size_t>(1, 300));
      fuzz::require(net::send_all(server.fd(), fuzz::bytes_of(chunk), soon()).has_value(), "send failed");
      sent += chunk;
    }
    outcome = exchange.advance(EPOLLIN);
    if (closed) fuzz::require(outcome.has_value(), "no outcome after the tracker closed");
    if (!outcome) fuzz::require(sent.size() < needed(sent), "a complete answer was not noticed");
  }
  if (outcome) check_outcome(*outcome, sent, closed);
  if (sent.size() >= 5) check_entries(fuzz::bytes_of(sent).subspan(5));
  return 0;
}
