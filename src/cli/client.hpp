#pragma once

// sockit client's parts (client*.cpp): the options, the requests and how replies are written.

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cli/usage_error.hpp"

namespace sockit::cli::client {

struct ClientOptions {
  std::string service;
  std::string host = "127.0.0.1";
  unsigned port = 0;
  bool udp = false;
  double timeout = 0;  // 0: 5 s for TCP, 2 s for UDP
  std::size_t bytes = 740;
  bool system_ports = false;
  std::vector<std::string> args;
};

/// Whoever read standard output has gone (`sockit client chargen | head`): stop, exit 0.
struct OutputClosed {};

/// Writes `bytes` to standard output at once (the client is interactive). Throws OutputClosed
/// when the reader left, std::runtime_error for other write failures.
void write_out(std::string_view bytes);
void write_out(std::span<const std::byte> bytes);

/// Each ARG is one request; without ARGS, each stdin line is (read as needed, so the client is
/// interactive like the notes' clients). `check` throws UsageError for a request that can't be
/// sent: every ARG is checked before the first is handed out, so nothing is sent when one is bad.
class Requests {
 public:
  using Check = std::function<void(const std::string&)>;
  Requests(const std::vector<std::string>& args, Check check);
  std::optional<std::string> next();

 private:
  const std::vector<std::string>& args_;
  Check check_;
  std::size_t index_ = 0;
};

/// The 2 bytes of an incr request; UsageError unless `text` is an integer from -32768 to 32767.
std::array<std::byte, 2> encode_incr(const std::string& text);
int decode_incr(std::span<const std::byte> reply);
/// An RFC 868 reply as "Sun Nov 22 10:00:00 2026 (3988951200 seconds since 1900)", local time.
std::string decode_time(std::span<const std::byte> reply);

/// Talk to `port` as `o` says; return the exit code. Errors throw (net::Error: exit 1).
int run_tcp(const ClientOptions& o, const std::string& port, std::chrono::milliseconds timeout);
int run_udp(const ClientOptions& o, const std::string& port, std::chrono::milliseconds give_up);

}  // namespace sockit::cli::client
