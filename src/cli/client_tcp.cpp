// sockit client over TCP: server-speaks-first services (daytime, time, chargen) stream to
// stdout; line services (echo, upper, fib) send a line and print the line that comes back.
#include <fmt/core.h>
#include <sys/socket.h>

#include <algorithm>

#include "cli/client.hpp"
#include "net/io.hpp"
#include "net/reader.hpp"
#include "net/socket.hpp"

namespace sockit::cli::client {
namespace {

// daytime and chargen: whatever the server sends, as it comes (constant memory however much
// --bytes asks for), up to `limit` bytes or the server's close.
void stream_reply(int fd, std::size_t limit, std::chrono::milliseconds timeout) {
  std::byte chunk[16384];
  for (std::size_t done = 0; done < limit;) {
    const auto want = std::min(sizeof(chunk), limit - done);
    const auto n = net::recv_some(fd, std::span(chunk).first(want), net::Deadline::after(timeout)).value();
    if (n == 0) return;
    write_out(std::span<const std::byte>(chunk, n));
    done += n;
  }
}

std::vector<std::byte> read_time(int fd, std::chrono::milliseconds timeout) {
  std::vector<std::byte> reply(4);
  std::size_t got = 0;
  while (got < reply.size()) {
    const auto n = net::recv_some(fd, std::span(reply).subspan(got), net::Deadline::after(timeout)).value();
    if (n == 0) break;
    got += n;
  }
  reply.resize(got);
  return reply;
}

}  // namespace

int run_tcp(const ClientOptions& o, const std::string& port, std::chrono::milliseconds timeout) {
  const std::string& s = o.service;
  const auto check = [&s](const std::string& request) {
    if (s == "incr") (void)encode_incr(request);
  };
  Requests requests(o.args, check);  // checks every ARG before connecting
  auto socket = net::connect_to(o.host, port, timeout).value();
  const int fd = socket.fd();
  auto deadline = [&] { return net::Deadline::after(timeout); };

  if (s == "time") {
    write_out(decode_time(read_time(fd, timeout)) + "\n");
    return 0;
  }
  if (s == "daytime" || s == "chargen") {
    stream_reply(fd, s == "chargen" ? o.bytes : std::size_t(-1), timeout);
    return 0;
  }
  if (s == "incr") {
    while (auto line = requests.next()) {
      net::send_all(fd, encode_incr(*line), deadline()).value();
      std::array<std::byte, 2> reply;
      net::recv_exact(fd, reply, deadline()).value();
      write_out(fmt::format("{}\n", decode_incr(reply)));
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
    write_out(*reply + "\n");
  }
  return 0;
}

}  // namespace sockit::cli::client
