// Echo Protocol, RFC 862: whatever arrives is sent back, byte for byte (TCP: the stream; UDP:
// each datagram).
#include <algorithm>

#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

class EchoSession : public Session {
 public:
  // Every byte is a request: take as many as the output has room for.
  Taken receive(std::span<const std::byte> in, Output& out) override {
    const auto take = std::min(in.size(), out.room());
    out.append(in.first(take));
    if (take > 0) ++chunks_;
    return {take};
  }
  std::size_t requests() const noexcept override { return chunks_; }

 private:
  std::size_t chunks_ = 0;
};

class EchoService : public Service {
 public:
  std::string_view name() const noexcept override { return "echo"; }
  std::unique_ptr<Session> new_session(const SessionContext&) const override {
    return std::make_unique<EchoSession>();
  }
};

class EchoDatagrams : public DatagramService {
 public:
  std::string_view name() const noexcept override { return "echo"; }
  std::optional<std::string> answer(std::span<const std::byte> datagram, const SessionContext&,
                                    std::string&) const override {
    return std::string(reinterpret_cast<const char*>(datagram.data()), datagram.size());
  }
};

}  // namespace

std::unique_ptr<Service> make_echo_tcp(const ServiceOptions&) { return std::make_unique<EchoService>(); }
std::unique_ptr<DatagramService> make_echo_udp(const ServiceOptions&) { return std::make_unique<EchoDatagrams>(); }

}  // namespace sockit::serve::services
