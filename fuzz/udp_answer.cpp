// Every UDP service's answer to any datagram (the service chosen by the input): what each
// protocol says the reply is, and never more than a datagram can carry.
#include <chrono>

#include "net/byte_order.hpp"
#include "serve/services/services.hpp"
#include "support/check.hpp"

#include <fuzzer/FuzzedDataProvider.h>

using namespace sockit;

// A clock a model can give: any time_point but the first and last second, whose whole second
// is not representable in nanoseconds (daytime's floor<seconds>() would overflow: not reachable
// from system_clock::now(), and not worth a fix).
constexpr std::int64_t kEarliest = INT64_MIN + 1'000'000'000;
constexpr std::int64_t kLatest = INT64_MAX - 1'000'000'000;

namespace {

constexpr std::size_t kMaxDatagram = 65507;  // IPv4 UDP payload

struct Services {
  std::vector<std::unique_ptr<serve::DatagramService>> all;
  Services() {
    for (const auto& info : serve::services::catalog())
      if (info.udp) all.push_back(serve::services::make_udp(info.name, {}));
    all.push_back(serve::services::make_udp("daytime", {.daytime_format = "iso", .fib_algorithm = "iterative", .http = {}}));
  }
};

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Services services;
  FuzzedDataProvider fdp(data, size);
  const auto& service = *services.all[fdp.ConsumeIntegralInRange<std::size_t>(0, services.all.size() - 1)];
  const auto nanoseconds = fdp.ConsumeIntegralInRange<std::int64_t>(kEarliest, kLatest);
  serve::SessionContext context;
  context.now = [nanoseconds] {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(nanoseconds)));
  };
  const auto datagram = fdp.ConsumeRemainingBytesAsString();
  std::string complaint;
  const auto reply = service.answer(fuzz::bytes_of(datagram), context, complaint);
  if (reply) fuzz::require(reply->size() <= kMaxDatagram, "a reply larger than a datagram");

  const auto name = service.name();
  if (name == "echo") {
    fuzz::require(reply == datagram, "echo changed the datagram");
  } else if (name == "discard") {
    fuzz::require(!reply, "discard answered");
  } else if (name == "chargen") {
    fuzz::require(reply && reply->size() == 74 && reply->ends_with("\r\n"), "chargen's reply is not one line");
  } else if (name == "time") {
    fuzz::require(reply && reply->size() == 4, "time's reply is not 4 bytes");
  } else if (name == "daytime") {
    fuzz::require(reply && !reply->empty() && reply->size() < 64, "daytime's reply is not one short line");
  } else if (name == "length") {
    const auto expected = "The msg was " + std::to_string(datagram.size()) + " bytes long";
    fuzz::require(reply == expected, "length miscounted");
  } else if (name == "upper") {
    const bool quit = datagram == "quit" || datagram == "quit\n" || datagram == "quit\r\n";
    fuzz::require(quit ? !reply : reply == upper(datagram), "upper's reply is wrong");
  } else if (name == "incr") {
    if (datagram.size() != 2) {
      fuzz::require(!reply && !complaint.empty(), "incr answered a datagram that is not 2 bytes");
    } else {
      const auto n = net::load_u16(fuzz::bytes_of(datagram).data());
      fuzz::require(reply && reply->size() == 2 &&
                        net::load_u16(fuzz::bytes_of(*reply).data()) == static_cast<std::uint16_t>(n + 1U),
                    "incr's reply is not n + 1");
    }
  }  // a service added later gets the size check above until it gets its own here
  return 0;
}
