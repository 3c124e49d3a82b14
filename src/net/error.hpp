#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace sockit::net {

/// Errors sockit itself detects (as opposed to errno or getaddrinfo codes).
enum class Errc {
  unexpected_eof = 1,  ///< the peer closed before a complete message arrived
  line_too_long,       ///< a line exceeded the reader's limit
  bad_address,         ///< text that is not an address we can parse
  protocol,            ///< the peer broke the protocol
  not_regular_file,    ///< a FIFO, device, directory or socket where a regular file must be
  file_in_use,         ///< an output that names a file already given as an input or another output
  file_changed,        ///< a file's size or content changed while it was read
};

const std::error_category& sockit_category() noexcept;
/// The category of getaddrinfo()/getnameinfo() codes; messages come from gai_strerror().
const std::error_category& gai_category() noexcept;

std::error_code make_error_code(Errc e) noexcept;

/// A failed call: which call, on which address, and why.
/// what() reads like "connect to 127.0.0.1:9 failed: Connection refused".
class Error : public std::system_error {
 public:
  Error(std::string call, std::error_code code, std::string address = {}, std::string detail = {});

  const std::string& call() const noexcept { return call_; }
  const std::string& address() const noexcept { return address_; }
  const std::string& detail() const noexcept { return detail_; }

  /// True for EAGAIN/EWOULDBLOCK.
  bool would_block() const noexcept;
  bool timed_out() const noexcept;

  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
  std::string call_;
  std::string address_;
  std::string detail_;
};

/// An Error for `call` from errno (or from `err` when given).
Error errno_error(std::string_view call, std::string_view address = {}, int err = 0);

}  // namespace sockit::net

template <>
struct std::is_error_code_enum<sockit::net::Errc> : std::true_type {};
