// Discard Protocol, RFC 863: "simply throw away any data received". TCP: the connection stays
// open and nothing is ever sent; UDP: no response is sent to any datagram.
#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

class DiscardSession : public Session {
 public:
  Taken receive(std::span<const std::byte> in, Output&) override {
    ++chunks_;
    return {in.size()};
  }
  // Each chunk that arrived counts as a request, as echo counts them: a stream has no other unit.
  std::size_t requests() const noexcept override { return chunks_; }

 private:
  std::size_t chunks_ = 0;
};

class DiscardService : public Service {
 public:
  std::string_view name() const noexcept override { return "discard"; }
  std::unique_ptr<Session> new_session(const SessionContext&) const override {
    return std::make_unique<DiscardSession>();
  }
};

class DiscardDatagrams : public DatagramService {
 public:
  std::string_view name() const noexcept override { return "discard"; }
  std::optional<std::string> answer(std::span<const std::byte>, const SessionContext&,
                                    std::string&) const override {
    return std::nullopt;
  }
};

}  // namespace

std::unique_ptr<Service> make_discard_tcp(const ServiceOptions&) { return std::make_unique<DiscardService>(); }
std::unique_ptr<DatagramService> make_discard_udp(const ServiceOptions&) {
  return std::make_unique<DiscardDatagrams>();
}

}  // namespace sockit::serve::services
