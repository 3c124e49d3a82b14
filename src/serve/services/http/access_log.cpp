#include "serve/services/http/access_log.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>

#include "net/error.hpp"

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

std::string_view host_of(std::string_view peer) {
  if (peer.starts_with('[')) return peer.substr(1, peer.find(']') - 1);
  return peer.substr(0, peer.rfind(':'));
}

}  // namespace

std::string clf_time(std::int64_t unix_seconds) {
  using namespace std::chrono;
  const sys_seconds at{seconds(unix_seconds)};
  const auto day = floor<days>(at);
  const year_month_day date{day};
  const hh_mm_ss time{at - day};
  return fmt::format("{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000", static_cast<unsigned>(date.day()),
                     kMonths[static_cast<unsigned>(date.month()) - 1], static_cast<int>(date.year()),
                     time.hours().count(), time.minutes().count(), time.seconds().count());
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
  const auto line = fmt::format("{} - - [{}] \"{}\" {} {}\n", host_of(peer), clf_time(unix_seconds),
                                quoted(request_line), status, body_bytes);
  std::lock_guard lock(mutex_);
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace sockit::serve::services::http
