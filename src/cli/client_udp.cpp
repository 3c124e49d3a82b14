// sockit client over UDP: each request is one datagram, and waits for its reply with the notes'
// exponential back-off: 0.1 s, doubling, giving up once the next wait would pass --timeout.
#include <fmt/core.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "cli/client.hpp"
#include "net/io.hpp"
#include "net/socket.hpp"
#include "net/text.hpp"

namespace sockit::cli::client {
namespace {

// The largest UDP payload: 65535 bytes of IP packet less the IP and UDP headers (IPv6's header
// is outside its 65535-byte payload length).
std::size_t max_datagram(int family) { return family == AF_INET6 ? 65527 : 65507; }

std::string too_big(const std::string& service, std::size_t size, int family) {
  return fmt::format("{}: a request of {} bytes is larger than a UDP datagram ({} bytes at most over {})", service,
                     size, max_datagram(family), family == AF_INET6 ? "IPv6" : "IPv4");
}

class UdpExchange {
 public:
  UdpExchange(net::Socket socket, std::chrono::milliseconds give_up, std::string service)
      : socket_(std::move(socket)), give_up_(give_up), service_(std::move(service)) {
    if (auto peer = socket_.peer_address()) {
      peer_ = peer->to_string();
      family_ = peer->family();
    }
  }

  int family() const noexcept { return family_; }

  /// Sends `request` until a reply comes, waiting 0.1 s, 0.2 s, ... (the notes' back-off).
  std::vector<std::byte> ask(std::span<const std::byte> request) {
    std::vector<std::byte> reply(65536);
    auto wait = std::chrono::milliseconds(100);
    int tries = 0;
    for (;;) {
      ++tries;
      send(request, wait);
      auto n = net::recv_some(socket_.fd(), reply, net::Deadline::after(wait));
      if (n) {
        reply.resize(*n);
        return reply;
      }
      // Timed out, or refused (ICMP port unreachable on a connected socket): try again, later.
      const bool refused = n.error().code() == std::errc::connection_refused;
      if (!n.error().timed_out()) pause(wait);
      wait *= 2;
      if (wait > give_up_)
        throw std::runtime_error(fmt::format("no reply from {} after {}{} — is the server up?", peer_,
                                             net::counted(tries, "try", "tries"),
                                             refused ? ": Connection refused (ICMP port unreachable)" : ""));
    }
  }
  void tell(std::span<const std::byte> request) { send(request, give_up_); }

 private:
  // A refused or lost datagram is retried by ask(); one too big for UDP never goes.
  void send(std::span<const std::byte> request, std::chrono::milliseconds wait) {
    auto sent = net::send_some(socket_.fd(), request, net::Deadline::after(wait));
    if (!sent && sent.error().code() == std::errc::message_size)
      throw UsageError(too_big(service_, request.size(), family_));
  }
  static void pause(std::chrono::milliseconds how_long) { ::poll(nullptr, 0, static_cast<int>(how_long.count())); }

  net::Socket socket_;
  std::chrono::milliseconds give_up_;
  std::string service_;
  std::string peer_;
  int family_ = AF_INET;
};

}  // namespace

int run_udp(const ClientOptions& o, const std::string& port, std::chrono::milliseconds give_up) {
  const std::string& s = o.service;
  UdpExchange exchange(net::connect_to(o.host, port, {}, SOCK_DGRAM).value(), give_up, s);
  // Connecting a UDP socket sends nothing: every ARG is still checked before the first goes.
  const auto check = [&](const std::string& request) {
    if (s == "incr") (void)encode_incr(request);
    else if (request.size() > max_datagram(exchange.family())) throw UsageError(too_big(s, request.size(), exchange.family()));
  };
  Requests requests(o.args, check);
  if (s == "daytime" || s == "time" || s == "chargen") {
    auto reply = exchange.ask(net::as_bytes(s));
    if (s == "time") {
      write_out(decode_time(reply) + "\n");
    } else {
      write_out(reply);
      if (!reply.empty() && reply.back() != std::byte{'\n'}) write_out("\n");
    }
    return 0;
  }
  while (auto line = requests.next()) {
    if (s == "incr") {
      write_out(fmt::format("{}\n", decode_incr(exchange.ask(encode_incr(*line)))));
    } else if (s == "discard" || (s == "upper" && *line == "quit")) {
      exchange.tell(net::as_bytes(*line));  // no reply will come
    } else {
      auto reply = exchange.ask(net::as_bytes(*line));
      write_out(reply);
      if (reply.empty() || reply.back() != std::byte{'\n'}) write_out("\n");
    }
  }
  return 0;
}

}  // namespace sockit::cli::client
