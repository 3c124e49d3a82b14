#include "tools/tls_error.hpp"

#include <openssl/err.h>

#include <cerrno>

namespace sockit::tools {
namespace {

class TlsCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "tls"; }
  std::string message(int code) const override {
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(code));
    return reason ? reason : "TLS error " + std::to_string(code);
  }
};

}  // namespace

const std::error_category& tls_category() noexcept {
  static const TlsCategory category;
  return category;
}

net::Error tls_error(std::string call, std::string detail) {
  const int saved_errno = errno;
  const unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first != 0 && !ERR_SYSTEM_ERROR(first))
    return net::Error(std::move(call), {static_cast<int>(first & 0x7fffffffUL), tls_category()}, {},
                      std::move(detail));
  const int err = first != 0 ? static_cast<int>(ERR_GET_REASON(first)) : saved_errno;
  if (err != 0) return net::Error(std::move(call), {err, std::system_category()}, {}, std::move(detail));
  return net::Error(std::move(call), net::Errc::unexpected_eof, {}, std::move(detail));
}

}  // namespace sockit::tools
