// sockit client: a client for every service of `sockit serve` (DESIGN.md's service table).
// Requests come from ARGS (one per argument) or from stdin lines; replies go to stdout. UDP
// waits for each reply with the notes' exponential back-off: 0.1 s, doubling, giving up once
// the next wait would pass --timeout (2 s by default).
#include <fmt/core.h>
#include <poll.h>
#include <sys/socket.h>

#include <charconv>
#include <chrono>
#include <ctime>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "net/byte_order.hpp"
#include "net/io.hpp"
#include "net/reader.hpp"
#include "net/socket.hpp"
#include "serve/services/services.hpp"

namespace sockit::cli {
namespace {

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

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// RFC 868: seconds from 1900-01-01 to 1970-01-01.
constexpr std::int64_t kEpochOffset = 2208988800;

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000 + 0.5));
}

// Each ARG is one request; without ARGS, each stdin line is (read as needed, so the client is
// interactive like the notes' clients).
class Requests {
 public:
  explicit Requests(const std::vector<std::string>& args) : args_(args) {}
  std::optional<std::string> next() {
    if (!args_.empty()) {
      if (index_ == args_.size()) return std::nullopt;
      return args_[index_++];
    }
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
  }

 private:
  const std::vector<std::string>& args_;
  std::size_t index_ = 0;
};

std::string decode_time(std::span<const std::byte> reply) {
  if (reply.size() != 4) throw std::runtime_error(fmt::format("time: expected 4 bytes, got {}", reply.size()));
  const std::uint32_t since_1900 = net::load_u32(reply.data());
  const std::time_t unix_time = static_cast<std::time_t>(static_cast<std::int64_t>(since_1900) - kEpochOffset);
  std::tm local{};
  ::localtime_r(&unix_time, &local);
  char text[64];
  std::strftime(text, sizeof(text), "%a %b %e %H:%M:%S %Y", &local);
  return fmt::format("{} ({} seconds since 1900)", text, since_1900);
}

std::array<std::byte, 2> encode_incr(const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < -32768 || value > 32767)
    throw UsageError(fmt::format("incr: '{}' is not an integer from -32768 to 32767", text));
  std::array<std::byte, 2> wire;
  net::store_u16(wire.data(), static_cast<std::uint16_t>(static_cast<std::int16_t>(value)));
  return wire;
}

int decode_incr(std::span<const std::byte> reply) {
  if (reply.size() != 2) throw std::runtime_error(fmt::format("incr: expected 2 bytes, got {}", reply.size()));
  return static_cast<std::int16_t>(net::load_u16(reply.data()));
}

void print_raw(std::span<const std::byte> bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  std::fflush(stdout);
}

// ---- TCP ----

int run_tcp(const ClientOptions& o, const std::string& port, std::chrono::milliseconds timeout) {
  auto socket = net::connect_to(o.host, port, timeout).value();
  const int fd = socket.fd();
  auto deadline = [&] { return net::Deadline::after(timeout); };
  const std::string& s = o.service;
  Requests requests(o.args);

  if (s == "daytime" || s == "time" || s == "chargen") {
    std::vector<std::byte> reply;
    std::byte chunk[4096];
    const std::size_t limit = s == "time" ? 4 : s == "chargen" ? o.bytes : std::size_t(-1);
    while (reply.size() < limit) {
      auto n = net::recv_some(fd, std::span(chunk).first(std::min(sizeof(chunk), limit - reply.size())), deadline())
                   .value();
      if (n == 0) break;
      reply.insert(reply.end(), chunk, chunk + n);
    }
    if (s == "time")
      fmt::print("{}\n", decode_time(reply));
    else
      print_raw(reply);
    return 0;
  }
  if (s == "incr") {
    while (auto line = requests.next()) {
      auto wire = encode_incr(*line);
      net::send_all(fd, wire, deadline()).value();
      std::array<std::byte, 2> reply;
      net::recv_exact(fd, reply, deadline()).value();
      fmt::print("{}\n", decode_incr(reply));
      std::fflush(stdout);
    }
    return 0;
  }
  if (s == "discard") {
    while (auto line = requests.next()) net::send_all(fd, net::as_bytes(*line + "\n"), deadline()).value();
    socket.shutdown(SHUT_WR).value();
    std::byte sink[4096];
    while (net::recv_some(fd, sink, deadline()).value() > 0) {
    }
    return 0;
  }
  // echo, upper, fib: a line out, a line back.
  net::Reader reader(fd);
  while (auto line = requests.next()) {
    net::send_all(fd, net::as_bytes(*line + "\n"), deadline()).value();
    auto reply = reader.read_line(std::size_t(1) << 24, net::LineEnd::newline, deadline()).value();
    if (!reply) break;  // the server closed (upper after "quit")
    fmt::print("{}\n", *reply);
    std::fflush(stdout);
  }
  return 0;
}

// ---- UDP ----

class UdpExchange {
 public:
  UdpExchange(net::Socket socket, std::chrono::milliseconds give_up) : socket_(std::move(socket)), give_up_(give_up) {
    if (auto peer = socket_.peer_address()) peer_ = peer->to_string();
  }

  /// Sends `request` until a reply comes, waiting 0.1 s, 0.2 s, ... (the notes' back-off).
  std::vector<std::byte> ask(std::span<const std::byte> request) {
    std::vector<std::byte> reply(65536);
    auto wait = std::chrono::milliseconds(100);
    int tries = 0;
    for (;;) {
      ++tries;
      (void)net::send_some(socket_.fd(), request, net::Deadline::after(wait));
      auto n = net::recv_some(socket_.fd(), reply, net::Deadline::after(wait));
      if (n) {
        reply.resize(*n);
        return reply;
      }
      // Timed out, or refused (ICMP port unreachable on a connected socket): try again, later.
      if (!n.error().timed_out()) pause(wait);
      wait *= 2;
      if (wait > give_up_)
        throw std::runtime_error(fmt::format("no reply from {} after {} tries — is the server up?", peer_, tries));
    }
  }
  void tell(std::span<const std::byte> request) { (void)net::send_some(socket_.fd(), request); }

 private:
  static void pause(std::chrono::milliseconds how_long) { ::poll(nullptr, 0, static_cast<int>(how_long.count())); }

  net::Socket socket_;
  std::chrono::milliseconds give_up_;
  std::string peer_;
};

int run_udp(const ClientOptions& o, const std::string& port, std::chrono::milliseconds give_up) {
  UdpExchange exchange(net::connect_to(o.host, port, {}, SOCK_DGRAM).value(), give_up);
  const std::string& s = o.service;
  if (s == "daytime" || s == "time" || s == "chargen") {
    auto reply = exchange.ask(net::as_bytes(s));
    if (s == "time") {
      fmt::print("{}\n", decode_time(reply));
    } else {
      print_raw(reply);
      if (!reply.empty() && reply.back() != std::byte{'\n'}) fmt::print("\n");
    }
    return 0;
  }
  Requests requests(o.args);
  while (auto line = requests.next()) {
    if (s == "incr") {
      fmt::print("{}\n", decode_incr(exchange.ask(encode_incr(*line))));
    } else if (s == "discard" || (s == "upper" && *line == "quit")) {
      exchange.tell(net::as_bytes(*line));  // no reply will come
    } else {
      auto reply = exchange.ask(net::as_bytes(*line));
      print_raw(reply);
      if (reply.empty() || reply.back() != std::byte{'\n'}) fmt::print("\n");
    }
    std::fflush(stdout);
  }
  return 0;
}

int run(const ClientOptions& o) {
  const auto* info = serve::services::find(o.service);
  if (!info) throw UsageError(fmt::format("unknown service '{}'", o.service));
  const bool udp = o.udp || !info->tcp;
  if (udp && !info->udp) throw UsageError(fmt::format("{} has no UDP form", o.service));
  const unsigned port = o.port ? o.port : o.system_ports ? info->system_port : info->port;
  const double timeout = o.timeout > 0 ? o.timeout : udp ? 2.0 : 5.0;
  return udp ? run_udp(o, std::to_string(port), to_ms(timeout)) : run_tcp(o, std::to_string(port), to_ms(timeout));
}

}  // namespace

Command add_client(CLI::App& app) {
  auto o = std::make_shared<ClientOptions>();
  auto* cmd = app.add_subcommand("client", "Talk to a sockit service: requests from ARGS or stdin, replies to stdout");
  std::vector<std::string> names;
  for (const auto& info : serve::services::catalog()) names.emplace_back(info.name);
  cmd->add_option("service", o->service, "echo discard chargen daytime time fib upper length incr")
      ->required()
      ->check(CLI::IsMember(names));
  cmd->add_option("args", o->args, "requests, one per argument (default: stdin lines)");
  cmd->add_option("--host", o->host, "server host name or address")->capture_default_str();
  cmd->add_option("--port", o->port, "server port (default: the service's)")->check(CLI::Range(1u, 65535u));
  cmd->add_flag("--udp", o->udp, "use UDP (length is UDP only anyway)");
  cmd->add_option("--timeout", o->timeout, "seconds: TCP connect and reply wait (default 5); UDP gives up "
                                           "when the back-off would wait longer (default 2)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--bytes", o->bytes, "chargen: bytes to read before closing")->capture_default_str();
  cmd->add_flag("--system-ports", o->system_ports, "default ports 7, 9, 13, 19, 37 instead of 10007 ...");
  cmd->footer(
      "Examples:\n"
      "  sockit client fib 10 20 30\n"
      "  echo hello | sockit client upper\n"
      "  sockit client time\n"
      "  sockit client incr --udp 41 32767\n"
      "  sockit client length --port 1060 'some text'");
  return {cmd, [o]() -> int {
            try {
              return run(*o);
            } catch (const UsageError& e) {
              fmt::print(stderr, "sockit client: {}\n", e.what());
              return 2;
            }
          }};
}

}  // namespace sockit::cli
