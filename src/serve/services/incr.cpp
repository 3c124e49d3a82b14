// The notes' increment service (Lopez Pacheco, "Sockets with Python"): the client sends
// struct.pack("!h", n), a 2-byte big-endian signed integer; the server answers
// struct.pack("!h", n + 1). Python's pack would raise on 32767 + 1; we wrap to -32768 (int16
// arithmetic), which is what a C server would send. UDP: one datagram of 2 bytes per request;
// TCP: a stream of 2-byte requests, split anywhere.
#include <array>
#include <cstdint>
#include <string>

#include "net/byte_order.hpp"
#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

constexpr std::size_t kRequestSize = 2;

std::array<std::byte, kRequestSize> incremented(const std::byte* request) {
  const auto n = net::load_u16(request);
  // Unsigned addition wraps modulo 2^16: 0x7fff + 1 = 0x8000, that is 32767 -> -32768.
  std::array<std::byte, kRequestSize> reply{};
  net::store_u16(reply.data(), static_cast<std::uint16_t>(n + 1U));
  return reply;
}

class IncrSession : public Session {
 public:
  Taken receive(std::span<const std::byte> in, Output& out) override {
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (pending_size_ == 0 && out.full()) return {i};  // a new request waits for room
      pending_[pending_size_++] = in[i];
      if (pending_size_ == kRequestSize) {
        out.append(incremented(pending_.data()));
        pending_size_ = 0;
        ++requests_;
      }
    }
    return {in.size()};
  }
  // A lone byte left at EOF is half a request: nothing to answer, and worth one log line.
  Verdict end_of_input(Output&) override {
    if (pending_size_ != 0) complaints().push_back("incomplete request: 1 byte left at end of input");
    return Verdict::close;
  }
  // Half a request; its protocol has no error message (every answer is 2 bytes), so a late one
  // only ends the connection.
  bool mid_request() const noexcept override { return pending_size_ != 0; }
  std::size_t requests() const noexcept override { return requests_; }

 private:
  std::array<std::byte, kRequestSize> pending_{};
  std::size_t pending_size_ = 0;
  std::size_t requests_ = 0;
};

class IncrService : public Service {
 public:
  std::string_view name() const noexcept override { return "incr"; }
  std::unique_ptr<Session> new_session(const SessionContext&) const override {
    return std::make_unique<IncrSession>();
  }
};

class IncrDatagrams : public DatagramService {
 public:
  std::string_view name() const noexcept override { return "incr"; }
  std::optional<std::string> answer(std::span<const std::byte> datagram, const SessionContext&,
                                    std::string& complaint) const override {
    if (datagram.size() != kRequestSize) {
      complaint = "expected 2 bytes, got " + std::to_string(datagram.size());
      return std::nullopt;
    }
    const auto reply = incremented(datagram.data());
    return std::string(reinterpret_cast<const char*>(reply.data()), reply.size());
  }
};

}  // namespace

std::unique_ptr<Service> make_incr_tcp(const ServiceOptions&) { return std::make_unique<IncrService>(); }
std::unique_ptr<DatagramService> make_incr_udp(const ServiceOptions&) { return std::make_unique<IncrDatagrams>(); }

}  // namespace sockit::serve::services
