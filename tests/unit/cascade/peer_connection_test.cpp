#include <gtest/gtest.h>
#include <poll.h>
#include <sys/epoll.h>

#include <chrono>
#include <functional>

#include "cascade/peer_connection.hpp"
#include "cascade/tracker_client.hpp"
#include "cascade/tracker_exchange.hpp"
#include "net/byte_order.hpp"
#include "net/io.hpp"
#include "net/socket.hpp"
#include "block_frames.hpp"
#include "test_support.hpp"

namespace sockit::cascade {
namespace {

using testing::block_answer;

using namespace std::chrono_literals;
using sockit::testing::bytes_of;
using sockit::testing::text_of;
using Clock = std::chrono::steady_clock;

const Digest kHash = sha256(bytes_of("file"));

struct Listener {
  Listener() : socket(net::listen_on(net::Address::loopback(AF_INET, 0)).value()) {
    address = socket.local_address().value();
    endpoint = {0x7f000001, address.port()};
  }
  net::Socket accept() { return socket.accept().value(); }
  net::Socket socket;
  net::Address address;
  Endpoint endpoint;
};


struct Got {
  std::uint64_t index;
  unsigned status;
  std::string body;
};

// Plays the event loop for one connection with poll(), until `enough` says so, the connection
// closes, or 5 s pass.
std::vector<Got> drive(PeerConnection& link, const std::function<bool(const std::vector<Got>&)>& enough) {
  std::vector<Got> got;
  const auto deadline = Clock::now() + 5s;
  while (!enough(got) && !link.closing() && Clock::now() < deadline) {
    pollfd p{link.fd(), static_cast<short>(POLLIN | (link.interest() & EPOLLOUT ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    if (link.connecting()) {
      link.finish_connect(Clock::now()).value();
      continue;
    }
    if (p.revents & (POLLIN | POLLERR | POLLHUP))
      link.read_some(Clock::now(), [&](const PeerConnection::Answer& a) {
        got.push_back({a.index, a.status, text_of(a.body)});
      });
    if (p.revents & POLLOUT) link.flush();
  }
  return got;
}

std::vector<BlockRequest> read_requests(const net::Socket& server, std::size_t n) {
  std::vector<std::byte> raw(n * kBlockRequestSize);
  net::recv_exact(server.fd(), raw, net::Deadline::after(5s)).value();
  std::vector<BlockRequest> requests;
  for (std::size_t i = 0; i < n; ++i)
    requests.push_back(decode_block_request(std::span(raw).subspan(i * kBlockRequestSize).first<kBlockRequestSize>()).value());
  return requests;
}

TEST(PeerConnection, SendsRequestsAndHandsAnswersOutInRequestOrder) {
  Listener peer;
  auto link = PeerConnection::open(peer.endpoint, Clock::now()).value();
  auto server = peer.accept();
  link.request(5, 10, kHash, Clock::now());
  link.request(6, 10, kHash, Clock::now());
  link.request(7, 3, kHash, Clock::now());
  drive(link, [&](const auto&) { return !(link.interest() & EPOLLOUT) && !link.connecting(); });
  auto requests = read_requests(server, 3);
  EXPECT_EQ(requests[0].index, 5u);
  EXPECT_EQ(requests[2].index, 7u);
  EXPECT_EQ(requests[1].cascade_hash, kHash);
  std::vector<std::byte> all;
  for (const auto& a : {block_answer(0, "ten bytes!"), block_answer(2, "lacks"), block_answer(0, "end")}) all.insert(all.end(), a.begin(), a.end());
  net::send_all(server.fd(), all).value();
  auto got = drive(link, [](const auto& g) { return g.size() == 3; });
  ASSERT_EQ(got.size(), 3u) << link.close_reason();
  EXPECT_EQ((std::tuple{got[0].index, got[0].status, got[0].body}), (std::tuple{5u, 0u, std::string("ten bytes!")}));
  EXPECT_EQ((std::tuple{got[1].index, got[1].status}), (std::tuple{6u, 2u}));
  EXPECT_EQ((std::tuple{got[2].index, got[2].body}), (std::tuple{7u, std::string("end")}));
  EXPECT_EQ(link.in_flight(), 0u);
  EXPECT_FALSE(link.closing());
}

TEST(PeerConnection, ABlockOfTheWrongLengthClosesItAndBansThePeer) {
  Listener peer;
  auto link = PeerConnection::open(peer.endpoint, Clock::now()).value();
  auto server = peer.accept();
  link.request(3, 1024, kHash, Clock::now());
  net::send_all(server.fd(), block_answer(0, "junk!")).value();
  drive(link, [](const auto&) { return false; });
  ASSERT_TRUE(link.closing());
  EXPECT_TRUE(link.ban());
  EXPECT_NE(link.close_reason().find("block 3"), std::string::npos) << link.close_reason();
}

TEST(PeerConnection, AResetInTheMiddleOfABlockClosesItWithoutBan) {
  Listener peer;
  auto link = PeerConnection::open(peer.endpoint, Clock::now()).value();
  {
    auto server = peer.accept();
    link.request(0, 1024, kHash, Clock::now());
    auto half = block_answer(0, std::string(100, 'x'), 1024);
    net::send_all(server.fd(), half).value();
  }
  auto got = drive(link, [](const auto&) { return false; });
  EXPECT_TRUE(got.empty());
  ASSERT_TRUE(link.closing());
  EXPECT_FALSE(link.ban());
  EXPECT_NE(link.close_reason().find("middle"), std::string::npos) << link.close_reason();
}

TEST(PeerConnection, BytesAnsweringNoRequestCloseIt) {
  Listener peer;
  auto link = PeerConnection::open(peer.endpoint, Clock::now()).value();
  auto server = peer.accept();
  // A peer that sends blocks nobody asked for, forever: read until refused, never buffered.
  const auto unasked = block_answer(0, std::string(1000, 'y'));
  for (int i = 0; i < 10; ++i) net::send_all(server.fd(), unasked).value();
  drive(link, [](const auto&) { return false; });
  ASSERT_TRUE(link.closing());
  EXPECT_NE(link.close_reason().find("no request"), std::string::npos) << link.close_reason();
}

TEST(PeerConnection, CloseLaterOnlyMarksItAndTheFirstReasonWins) {
  Listener peer;
  auto link = PeerConnection::open(peer.endpoint, Clock::now()).value();
  link.close_later("stalled");
  link.close_later("bad block", true);
  EXPECT_TRUE(link.closing());
  EXPECT_EQ(link.close_reason(), "stalled");
  EXPECT_FALSE(link.ban());
  EXPECT_GE(link.fd(), 0) << "the owner closes it at its safe point";
  link.request(1, 10, kHash, Clock::now());
  EXPECT_EQ(link.in_flight(), 0u);
}

// ---- the tracker exchange ----

// Drives an exchange with poll() until it is over or `limit` passes.
std::optional<TrackerExchange::Outcome> drive(TrackerExchange& exchange, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    pollfd p{exchange.fd(), static_cast<short>(exchange.wants_write() ? POLLOUT : POLLIN), 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    if (auto outcome = exchange.advance(static_cast<std::uint16_t>(p.revents))) return outcome;
  }
  return std::nullopt;
}

std::vector<std::byte> tracker_answer(std::uint8_t status, std::span<const std::byte> body, std::optional<std::uint32_t> length = {}) {
  std::vector<std::byte> out(5 + body.size());
  out[0] = static_cast<std::byte>(status);
  net::store_u32(out.data() + 1, length.value_or(static_cast<std::uint32_t>(body.size())));
  std::copy(body.begin(), body.end(), out.begin() + 5);
  return out;
}

TEST(TrackerExchange, SendsTheRequestWholeAndReadsAnAnswerSplitAnywhere) {
  Listener tracker;
  auto exchange = TrackerExchange::start(tracker.address, TrackerCommand::list, kHash, {0x7f000001, 4000}).value();
  auto server = tracker.accept();
  EXPECT_FALSE(drive(exchange, 100ms)) << "nothing answered yet: still going, never waiting";
  std::array<std::byte, kTrackerRequestSize> request{};
  net::recv_exact(server.fd(), request, net::Deadline::after(5s)).value();
  auto parsed = parse_tracker_request(request, true);
  ASSERT_TRUE(std::holds_alternative<TrackerRequest>(parsed));
  EXPECT_EQ(std::get<TrackerRequest>(parsed).requester.port, 4000);
  const auto entries = encode_peer_entries({{{0x7f000001, 5000}, 0, false}, {{0x7f000001, 5001}, 0, true}});
  const auto whole = tracker_answer(0, entries);
  net::send_all(server.fd(), std::span(whole).first(3)).value();
  EXPECT_FALSE(drive(exchange, 50ms));
  net::send_all(server.fd(), std::span(whole).subspan(3)).value();
  auto outcome = drive(exchange, 5s);
  ASSERT_TRUE(outcome);
  ASSERT_TRUE(*outcome) << outcome->error().what();
  ASSERT_EQ((*outcome)->size(), 2u);
  EXPECT_EQ((**outcome)[1].endpoint.port, 5001);
  EXPECT_TRUE((**outcome)[1].good);
}

TEST(TrackerExchange, AnAnswerAboveTheBoundIsRefusedWithoutReadingIt) {
  Listener tracker;
  auto exchange = TrackerExchange::start(tracker.address, TrackerCommand::list, kHash, {0x7f000001, 4000}).value();
  auto server = tracker.accept();
  net::send_all(server.fd(), tracker_answer(0, {}, TrackerExchange::kMaxBody + 1)).value();
  auto outcome = drive(exchange, 5s);
  ASSERT_TRUE(outcome);
  ASSERT_FALSE(*outcome);
  EXPECT_NE(std::string(outcome->error().what()).find("at most"), std::string::npos) << outcome->error().what();
}

TEST(TrackerExchange, AnErrorStatusCarriesTheTrackersMessage) {
  Listener tracker;
  auto exchange = TrackerExchange::start(tracker.address, TrackerCommand::list, kHash, {0x7f000001, 4000}).value();
  auto server = tracker.accept();
  net::send_all(server.fd(), tracker_answer(1, bytes_of("untracked hash"))).value();
  auto outcome = drive(exchange, 5s);
  ASSERT_TRUE(outcome && !*outcome);
  EXPECT_NE(std::string(outcome->error().what()).find("status 1: untracked hash"), std::string::npos);
}

TEST(TrackerExchange, ATrackersMessageIsMadePrintableAndCut) {
  Listener tracker;
  auto exchange = TrackerExchange::start(tracker.address, TrackerCommand::list, kHash, {0x7f000001, 4000}).value();
  auto server = tracker.accept();
  const std::string hostile = "no\x1b[2J\x1b]0;owned\x07\nsockit: forged line\r" + std::string(5000, 'x');
  net::send_all(server.fd(), tracker_answer(1, bytes_of(hostile))).value();
  auto outcome = drive(exchange, 5s);
  ASSERT_TRUE(outcome && !*outcome);
  const std::string what = outcome->error().what();
  EXPECT_NE(what.find("status 1: no?[2J?]0;owned??sockit: forged line?xxx"), std::string::npos) << what;
  EXPECT_EQ(what.find_first_of("\x1b\x07\n\r"), std::string::npos) << what;
  EXPECT_LT(what.size(), 400u) << "a 5000-byte message is cut";
}

TEST(TrackerExchange, ACloseMidAnswerSaysHowMuchArrived) {
  Listener tracker;
  auto exchange = TrackerExchange::start(tracker.address, TrackerCommand::list, kHash, {0x7f000001, 4000}).value();
  {
    auto server = tracker.accept();
    auto whole = tracker_answer(0, std::vector<std::byte>(24));
    net::send_all(server.fd(), std::span(whole).first(10)).value();
  }
  auto outcome = drive(exchange, 5s);
  ASSERT_TRUE(outcome && !*outcome);
  EXPECT_NE(std::string(outcome->error().what()).find("after 10 of 29 bytes"), std::string::npos)
      << outcome->error().what();
}

TEST(AskTracker, GivesUpOnASilentTrackerAtItsDeadline) {
  Listener tracker;  // accepts (the backlog does) and never answers
  Endpoint self{0x7f000001, 4000};
  const auto start = Clock::now();
  auto answer = ask_tracker(tracker.address, TrackerCommand::subscribe, kHash, self, 200ms);
  const auto took = Clock::now() - start;
  ASSERT_FALSE(answer);
  EXPECT_TRUE(answer.error().timed_out()) << answer.error().what();
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 3s);
}

}  // namespace
}  // namespace sockit::cascade
