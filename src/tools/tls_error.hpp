#pragma once

#include <string>

#include "net/error.hpp"

namespace sockit::tools {

/// The category of OpenSSL's error codes (ERR_get_error() without the system flag); messages
/// are OpenSSL's reason strings ("certificate verify failed").
const std::error_category& tls_category() noexcept;

/// The Error for an OpenSSL call that failed: the first error in this thread's OpenSSL error
/// queue (which is then emptied), else errno, else "connection closed by peer". `detail` is
/// added in parentheses ("self-signed certificate").
/// Reads like "TLS handshake with 127.0.0.1:4433 failed: certificate verify failed (...)" when
/// `call` is "TLS handshake with 127.0.0.1:4433".
net::Error tls_error(std::string call, std::string detail = {});

}  // namespace sockit::tools
