#include "net/error.hpp"

#include <netdb.h>

#include <cerrno>

namespace sockit::net {
namespace {

class SockitCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "sockit"; }
  std::string message(int code) const override {
    switch (static_cast<Errc>(code)) {
      case Errc::unexpected_eof: return "Connection closed by peer before the message was complete";
      case Errc::line_too_long: return "Line too long";
      case Errc::bad_address: return "Invalid address";
      case Errc::protocol: return "Protocol error";
      case Errc::not_regular_file: return "Not a regular file";
      case Errc::file_in_use: return "The file is already given as another input or output";
      case Errc::file_changed: return "The file changed while it was read";
    }
    return "Unknown error";
  }
};

class GaiCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};

// The word between the call and the address: "connect to", "recv from", "accept on".
std::string_view preposition(std::string_view call) {
  for (std::string_view c : {"connect", "bind", "send", "sendto", "sendmsg", "send_all", "sendmmsg"})
    if (call == c) return "to";
  for (std::string_view c : {"recv", "recvfrom", "recvmsg", "recv_exact", "read_line", "read_exact",
                             "recvmmsg", "read"})
    if (call == c) return "from";
  for (std::string_view c : {"getaddrinfo", "getnameinfo", "parse address"})
    if (call == c) return "for";
  return "on";
}

std::string describe(const std::string& call, std::error_code code, const std::string& address,
                     const std::string& detail) {
  std::string text = call;
  if (!address.empty()) {
    text += ' ';
    text += preposition(call);
    text += ' ';
    text += address;
  }
  text += " failed: ";
  text += code.message();
  if (!detail.empty()) text += " (" + detail + ")";
  return text;
}

}  // namespace

const std::error_category& sockit_category() noexcept {
  static const SockitCategory category;
  return category;
}

const std::error_category& gai_category() noexcept {
  static const GaiCategory category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), sockit_category()}; }

Error::Error(std::string call, std::error_code code, std::string address, std::string detail)
    : std::system_error(code),
      message_(describe(call, code, address, detail)),
      call_(std::move(call)),
      address_(std::move(address)),
      detail_(std::move(detail)) {}

bool Error::would_block() const noexcept {
  return code() == std::errc::resource_unavailable_try_again ||
         code() == std::errc::operation_would_block;
}

bool Error::timed_out() const noexcept { return code() == std::errc::timed_out; }

Error errno_error(std::string_view call, std::string_view address, int err) {
  return Error(std::string(call), std::error_code(err ? err : errno, std::generic_category()),
               std::string(address));
}

}  // namespace sockit::net
