#include "serve/services/http/access_log.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include "net/address.hpp"
#include "net/error.hpp"
#include "net/io.hpp"
#include "net/utc_time.hpp"

namespace sockit::serve::services::http {
namespace {

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A request line quoted in the log: a client's bytes cannot forge a line or a field.
std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

}  // namespace

std::string clf_time(std::int64_t unix_seconds) {
  const auto t = net::utc_time_of_seconds(unix_seconds);
  return fmt::format("{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000", t.day, kMonths[t.month - 1], t.year, t.hour, t.minute,
                     t.second);
}

AccessLog::AccessLog(const std::string& path) : fd_(STDOUT_FILENO), owned_(path != "-") {
  if (owned_) fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw net::errno_error("open access log", path);
}

AccessLog::~AccessLog() {
  if (owned_) ::close(fd_);
}

void AccessLog::write(std::string_view peer, std::int64_t unix_seconds, std::string_view request_line, int status,
                      std::uint64_t body_bytes) {
  const auto line = fmt::format("{} - - [{}] \"{}\" {} {}\n", net::host_part(peer), clf_time(unix_seconds),
                                quoted(request_line), status, body_bytes);
  std::lock_guard lock(mutex_);
  (void)net::write_all(fd_, net::as_bytes(line));
}

}  // namespace sockit::serve::services::http
