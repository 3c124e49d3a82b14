#include "serve/log.hpp"

#include <fmt/chrono.h>
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace sockit::serve {

void Log::notice(std::string_view message) { write("notice", message); }

void Log::connection(std::string_view message) {
  if (!quiet_) write("info", message);
}

void Log::connection(const ConnectionEvent& event) {
  if (!quiet_) write("info", event.text, &event);
}

void Log::write(std::string_view level, std::string_view message, const ConnectionEvent* event) {
  std::string line;
  if (format_ == Format::json) {
    const auto now = std::chrono::system_clock::now();
    nlohmann::json record = {{"time", fmt::format("{:%FT%T}Z", std::chrono::floor<std::chrono::milliseconds>(now))},
                             {"level", level},
                             {"pid", ::getpid()},
                             {"message", message}};
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
