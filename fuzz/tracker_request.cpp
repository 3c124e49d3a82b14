// The tracker (cascade-protocol.md §2) as a session: one 54-byte request per connection, in
// random splits and output budgets, against a registry holding a few peers, with any config,
// clock and peer address. Exactly one well-formed answer comes back, the same whatever the
// splits (the one-piece run has a twin registry in the same state). And parse_tracker_request
// refuses as early as the bytes allow: once a prefix is bad, every longer one is.
#include <chrono>

#include "cascade/protocol.hpp"
#include "cascade/tracker.hpp"
#include "net/byte_order.hpp"
#include "support/session_harness.hpp"

using namespace sockit;

namespace {

const cascade::Digest kTracked = cascade::sha256(fuzz::bytes_of("tracked"));

void check_parser(std::span<const std::byte> bytes) {
  bool bad = false;
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    const auto prefix = bytes.first(n);
    const auto step = cascade::parse_tracker_request(prefix, false);
    const bool now_bad = std::holds_alternative<cascade::BadRequest>(step);
    fuzz::require(!bad || now_bad, "a longer request than a bad one was not bad");
    bad = now_bad;
    if (std::holds_alternative<cascade::NeedMore>(step))
      fuzz::require(n < cascade::kTrackerRequestSize, "NeedMore for a whole request");
    if (std::holds_alternative<cascade::TrackerRequest>(step))
      fuzz::require(n >= cascade::kTrackerRequestSize, "a request from too few bytes");
    const auto complete = cascade::parse_tracker_request(prefix, true);
    fuzz::require(!std::holds_alternative<cascade::NeedMore>(complete), "NeedMore after the client finished");
  }
}

void check_answer(std::string_view answer, const cascade::TrackerConfig& config) {
  fuzz::require(answer.size() >= 5, "no tracker answer");
  const auto bytes = fuzz::bytes_of(answer);
  const auto status = std::to_integer<unsigned>(bytes[0]);
  const auto length = net::load_u32(bytes.data() + 1);
  fuzz::require(answer.size() == 5 + length, "not exactly one answer");
  if (status == 0) {
    fuzz::require(length % cascade::kPeerEntrySize == 0, "a peer list of partial entries");
    fuzz::require(length / cascade::kPeerEntrySize <= config.max_entries, "more peers than max_entries");
  } else {
    fuzz::require(status == 1 && length > 0, "a refusal without status 1 and a message");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  cascade::TrackerConfig config;
  config.allow_any = fdp.ConsumeBool();
  config.allowed.insert(kTracked);
  config.ban_private = fdp.ConsumeBool();
  config.good_ips.insert(fdp.ConsumeIntegral<std::uint32_t>());
  config.max_entries = fdp.ConsumeIntegralInRange<std::size_t>(0, 4);
  const auto seed = fdp.ConsumeIntegral<std::uint64_t>();
  const std::chrono::system_clock::time_point now{std::chrono::seconds(fdp.ConsumeIntegral<std::uint32_t>())};

  // The trust and small caps come from the seed's bits, so the inputs found before they existed
  // keep their meaning.
  config.trust = (seed & 1) != 0 ? cascade::TrackerTrust::message : cascade::TrackerTrust::source;
  config.caps.peers_per_ip = 1 + (seed >> 1) % 4;
  config.caps.peers = 1 + (seed >> 3) % 8;
  config.caps.swarms = 1 + (seed >> 6) % 3;
  auto registry = std::make_shared<cascade::TrackerRegistry>(config.caps, seed);
  auto twin = std::make_shared<cascade::TrackerRegistry>(config.caps, seed);
  for (int peers = fdp.ConsumeIntegralInRange<int>(0, 6); peers > 0; --peers) {
    const cascade::Endpoint who{fdp.ConsumeIntegral<std::uint32_t>(), fdp.ConsumeIntegral<std::uint16_t>()};
    const bool good = fdp.ConsumeBool();
    const auto seen = now - std::chrono::seconds(fdp.ConsumeIntegralInRange<int>(0, 3600));
    registry->subscribe(kTracked, who, good, seen, config.stale_after);
    twin->subscribe(kTracked, who, good, seen, config.stale_after);
  }
  const cascade::TrackerService service(config, registry);
  const cascade::TrackerService reference(config, twin);

  serve::SessionContext context;
  context.now = [now] { return now; };
  static constexpr const char* kPeers[] = {"127.0.0.1:40000", "[::ffff:10.0.0.1]:5", "[::1]:9", "?", "unix:/x"};
  context.peer = fdp.ConsumeBool() ? std::string(fdp.PickValueInArray(kPeers)) : fdp.ConsumeRandomLengthString(40);

  // A registry answer is at most max_entries entries; a refusal one line.
  const auto runs = fuzz::fuzz_session(service, context, fdp, fuzz::answers_up_to(512), &reference);
  check_answer(runs.split.received, config);
  check_parser(fuzz::bytes_of(runs.split.arrived).first(std::min(runs.split.arrived.size(), std::size_t{80})));
  return 0;
}
