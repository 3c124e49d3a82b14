#include "serve/log.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "net/io.hpp"
#include "net/utc_time.hpp"

namespace sockit::serve {
namespace {

// 2026-12-01T17:18:52.123Z.
std::string utc_timestamp(std::chrono::system_clock::time_point now) {
  const auto t = net::utc_time(now);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.year, t.month, t.day, t.hour, t.minute, t.second,
                     t.millisecond);
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
      if (event->refusal) record["refusal"] = refusal_name(*event->refusal);
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
  (void)net::write_all(::fileno(out_), net::as_bytes(line));
}

}  // namespace sockit::serve
