// Time Protocol, RFC 868: "the time is the number of seconds since 00:00 (midnight) 1 January
// 1900 GMT", sent as a 32-bit binary number (big-endian). TCP: the server sends it as soon as the
// connection opens, then closes; UDP: any datagram is answered with it.
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>

#include "net/byte_order.hpp"
#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

// RFC 868's own example: 2,208,988,800 seconds from 1900-01-01 to 1970-01-01 (the Unix epoch).
constexpr std::int64_t kSeconds1900To1970 = 2'208'988'800;

std::array<std::byte, 4> time_bytes(std::chrono::system_clock::time_point now) {
  const auto unix_seconds = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
  // The 32-bit count wraps in 2036 (RFC 868 doesn't say more); the conversion is modulo 2^32.
  const auto since_1900 = static_cast<std::uint32_t>(static_cast<std::uint64_t>(unix_seconds + kSeconds1900To1970));
  std::array<std::byte, 4> bytes{};
  net::store_u32(bytes.data(), since_1900);
  return bytes;
}

class TimeSession : public Session {
 public:
  explicit TimeSession(const SessionContext& context) : now_(context.now) {}
  Verdict open(Output& out) override {
    out.append(time_bytes(now_()));
    return Verdict::close;
  }
  Taken receive(std::span<const std::byte> in, Output&) override { return {in.size(), Verdict::close}; }
  std::size_t requests() const noexcept override { return 1; }

 private:
  std::function<std::chrono::system_clock::time_point()> now_;
};

class TimeService : public Service {
 public:
  std::string_view name() const noexcept override { return "time"; }
  std::unique_ptr<Session> new_session(const SessionContext& context) const override {
    return std::make_unique<TimeSession>(context);
  }
};

class TimeDatagrams : public DatagramService {
 public:
  std::string_view name() const noexcept override { return "time"; }
  std::optional<std::string> answer(std::span<const std::byte>, const SessionContext& context,
                                    std::string&) const override {
    const auto bytes = time_bytes(context.now());
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
};

}  // namespace

std::unique_ptr<Service> make_time_tcp(const ServiceOptions&) { return std::make_unique<TimeService>(); }
std::unique_ptr<DatagramService> make_time_udp(const ServiceOptions&) { return std::make_unique<TimeDatagrams>(); }

}  // namespace sockit::serve::services
