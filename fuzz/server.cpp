// The whole server, in the style of h2o's fuzzer: the epoll model (one reactor thread, started
// once) serves every TCP service on Unix sockets with a small output budget, and each input is
// one client connection: the input picks the service and is written in pieces, with pauses of
// microseconds, reads of what has come back in between (a slow reader), and perhaps an early
// half-close. So the connection code meets partial reads, pipelined requests, back-pressure
// (the budget is 256 bytes) and EOF at any point. The client must get exactly what the session
// answers to the same bytes in one piece (daytime and time: their shape; chargen: RFC 864's
// pattern, for as long as the client reads), and every wait is bounded: a server that stops
// reading or answering fails the input.
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "net/io.hpp"
#include "net/socket.hpp"
#include "serve/model.hpp"
#include "serve/services/services.hpp"
#include "support/session_harness.hpp"
#include "support/temp_dir.hpp"

using namespace sockit;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kServices[] = {"echo", "fib", "upper", "incr", "discard", "chargen", "daytime", "time"};
constexpr auto kPatience = std::chrono::seconds(10);  // for any one wait on the server

serve::Limits limits() {
  serve::Limits l;
  l.max_line = 3;  // fib up to 999: fib(10000) costs ~25 ms under ASan, and fib's session has its own target
  l.high_water = 256;
  l.low_water = 64;
  l.idle_timeout = std::chrono::seconds(60);
  l.grace_period = std::chrono::seconds(1);
  return l;
}

// The server, started on the first input and stopped at exit.
class Server {
 public:
  Server() : limits_(limits()), model_(serve::make_model("epoll", {.threads = 1, .offload = true, .log = nullptr})) {
    fuzz::require(model_ != nullptr, "no epoll model");
    for (auto name : kServices) {
      services_.push_back(serve::services::make_tcp(name, {}));
      addresses_.push_back(net::Address::unix_path(dir_.file(std::string(name))).value());
      listeners_.push_back(net::listen_on(addresses_.back()).value());
    }
    for (std::size_t i = 0; i < services_.size(); ++i) endpoints_.push_back({listeners_[i], *services_[i]});
    thread_ = std::thread([this] { model_->run_all(endpoints_, limits_, stop_); });
  }
  ~Server() {
    stop_.request();
    thread_.join();
  }
  const serve::Service& service(std::size_t i) const { return *services_[i]; }
  const net::Address& address(std::size_t i) const { return addresses_[i]; }
  const serve::Limits& limits_of() const { return limits_; }

 private:
  fuzz::TempDir dir_;
  serve::Limits limits_;
  std::unique_ptr<serve::Model> model_;
  serve::StopSignal stop_;
  std::vector<std::unique_ptr<serve::Service>> services_;
  std::vector<net::Address> addresses_;
  std::vector<net::Socket> listeners_;
  std::vector<serve::Endpoint> endpoints_;
  std::thread thread_;
};

// The client's side of one connection.
class Client {
 public:
  explicit Client(const net::Address& address) : socket_(net::connect_to(address).value()) {
    fuzz::require(socket_.set_nonblocking().has_value(), "set_nonblocking failed");
  }

  std::string received;
  std::string sent;
  bool server_closed = false;  // EOF (or a reset) from the server
  bool reset = false;          // ... a reset: the end of the answer may be lost
  bool write_closed = false;   // the server stopped taking bytes for good (EPIPE)

  // Reads what is there now, at most `limit` bytes.
  void read_some(std::size_t limit) {
    char buffer[4096];
    while (limit > 0 && !server_closed) {
      const auto n = ::recv(socket_.fd(), buffer, std::min(limit, sizeof buffer), MSG_DONTWAIT);
      if (n > 0) {
        received.append(buffer, static_cast<std::size_t>(n));
        limit -= static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      server_closed = true;
      reset = n < 0;
    }
  }

  // Writes all of `bytes`, reading whatever comes back while the server is not taking more
  // (its budget is full until the client reads).
  void write(std::string_view bytes) {
    const auto deadline = Clock::now() + kPatience;
    while (!bytes.empty() && !write_closed) {
      const auto n = ::send(socket_.fd(), bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        sent.append(bytes.substr(0, static_cast<std::size_t>(n)));
        bytes.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        write_closed = true;  // the server closed its side
        return;
      }
      read_some(SIZE_MAX);
      wait(POLLIN | POLLOUT);
      fuzz::require(Clock::now() < deadline, "the server stopped reading while the client read everything");
    }
  }

  void half_close() { (void)socket_.shutdown(SHUT_WR); }

  // Reads until the server closes, or until `limit` bytes arrived.
  void read_to_end(std::size_t limit = SIZE_MAX) {
    const auto deadline = Clock::now() + kPatience;
    while (!server_closed && received.size() < limit) {
      read_some(limit - received.size());
      if (server_closed || received.size() >= limit) break;
      wait(POLLIN);
      fuzz::require(Clock::now() < deadline, "the server neither answered nor closed");
    }
  }

 private:
  void wait(short events) {
    pollfd p{socket_.fd(), events, 0};
    ::poll(&p, 1, 100);
  }
  net::Socket socket_;
};

std::string chargen_pattern(std::size_t length) {
  std::string text;
  for (std::size_t line = 0; text.size() < length; ++line) {
    for (std::size_t i = 0; i < 72; ++i) {
      const auto n = (line + i) % 95;
      text += n < 94 ? static_cast<char>('!' + n) : ' ';
    }
    text += "\r\n";
  }
  text.resize(length);
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Server server;
  FuzzedDataProvider fdp(data, size);
  const auto which = fdp.ConsumeIntegralInRange<std::size_t>(0, std::size(kServices) - 1);
  const auto name = kServices[which];
  const bool producer = name == "chargen";
  const auto chargen_wanted = producer ? fdp.ConsumeIntegralInRange<std::size_t>(1, 20000) : 0;

  Client client(server.address(which));
  bool half_closed = false;
  while (fdp.remaining_bytes() > 0 && !half_closed && !client.write_closed) {
    switch (fdp.ConsumeIntegralInRange<int>(0, 9)) {
      case 0: case 1: case 2: case 3: case 4:
        client.write(fdp.ConsumeBytesAsString(fdp.ConsumeIntegralInRange<std::size_t>(1, 300)));
        break;
      case 5: case 6:
        std::this_thread::sleep_for(std::chrono::microseconds(fdp.ConsumeIntegralInRange<int>(0, 50)));
        break;
      case 7: case 8:
        client.read_some(fdp.ConsumeIntegralInRange<std::size_t>(1, 2000));
        break;
      case 9:
        half_closed = true;
        break;
    }
  }
  if (producer) {
    client.read_to_end(chargen_wanted);
    client.received.resize(std::min(client.received.size(), chargen_wanted));
    fuzz::require(client.received == chargen_pattern(client.received.size()), "chargen's lines are not RFC 864's");
    if (!client.server_closed) fuzz::require(client.received.size() == chargen_wanted, "chargen stopped producing");
    return 0;
  }
  client.half_close();
  client.read_to_end();

  if (name == "time") {
    fuzz::require(client.received.size() == 4, "time did not send 4 bytes");
    return 0;
  }
  if (name == "daytime") {
    fuzz::require(client.received.ends_with("\r\n"), "daytime did not send a line");
    return 0;
  }
  if (name == "upper" && client.sent.find("quit") != std::string::npos) return 0;  // see session_upper.cpp
  serve::SessionContext context;
  context.max_line = server.limits_of().max_line;
  auto session = server.service(which).new_session(context);
  const auto expected = fuzz::run_whole(*session, fuzz::bytes_of(client.sent)).received;
  if (client.reset) {
    fuzz::require(expected.starts_with(client.received), "the server sent other bytes than the session's answer");
  } else {
    fuzz::require(client.received == expected, "the server's answer is not the session's answer to the same bytes");
  }
  return 0;
}
