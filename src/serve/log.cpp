#include "serve/log.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace sockit::serve {
namespace {

// 2026-12-01T17:18:52.123Z, by calendar arithmetic alone: gmtime_r and localtime_r take glibc's
// time-zone lock, which a child forked while another thread held it would wait on for good (and
// fmt's chrono formatting of a time_point is localtime).
std::string utc_timestamp(std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(now);
  const auto day = floor<days>(ms);
  const year_month_day date{day};
  const hh_mm_ss time{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), time.hours().count(),
                     time.minutes().count(), time.seconds().count(), time.subseconds().count());
}

}  // namespace

void Log::notice(std::string_view message) { write("notice", message); }

void Log::connection(std::string_view message, Origin origin) {
  if (!quiet_) write("info", message, origin);
}

void Log::connection(const ConnectionEvent& event) {
  if (!quiet_) write("info", event.text, event.origin, &event);
}

void Log::write(std::string_view level, std::string_view message, Origin origin, const ConnectionEvent* event) {
  std::string line;
  if (format_ == Format::json) {
    nlohmann::json record = {{"time", utc_timestamp(std::chrono::system_clock::now())},
                             {"level", level},
                             {"pid", ::getpid()},
                             {"message", message}};
    if (!origin.service.empty()) {
      record["service"] = origin.service;
      record["port"] = origin.port;
    }
    if (event) {
      record["event"] = event->event;
      record["peer"] = event->peer;
      if (event->requests) record["requests"] = *event->requests;
      if (!event->reason.empty()) record["reason"] = event->reason;
    }
    // A peer's bytes may be no UTF-8 (a complaint quoting a request): never throw for them.
    line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = std::string(message);
  }
  line += '\n';
  std::lock_guard lock(mutex_);
  std::fflush(out_);
  // One write() per line: forked children share the descriptor and lines must not interleave.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(::fileno(out_), p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace sockit::serve
