// The notes' UDP server (Di Valerio, "Socket", after Rhodes & Goerzen's Foundations of Python
// Network Programming), port 1060: every datagram is answered with
// 'The msg was %d bytes long' % len(msg). UDP only.
#include <string>

#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

class LengthDatagrams : public DatagramService {
 public:
  std::string_view name() const noexcept override { return "length"; }
  std::optional<std::string> answer(std::span<const std::byte> datagram, const SessionContext&,
                                    std::string&) const override {
    return "The msg was " + std::to_string(datagram.size()) + " bytes long";
  }
};

}  // namespace

std::unique_ptr<DatagramService> make_length_udp(const ServiceOptions&) {
  return std::make_unique<LengthDatagrams>();
}

}  // namespace sockit::serve::services
