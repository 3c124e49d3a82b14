#include "serve/notify.hpp"

#include <fmt/format.h>
#include <sys/un.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "net/error.hpp"
#include "net/io.hpp"
#include "net/options.hpp"
#include "net/socket.hpp"

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;

constexpr auto kSendTimeout = 1s;  // systemd reads its socket at once; never hang a server on it

net::Error bad_notify_socket(std::string_view path, std::string_view why) {
  return net::Error("parse address", net::Errc::bad_address, fmt::format("NOTIFY_SOCKET={}", path), std::string(why));
}

// "/path" as it is; "@name": the abstract namespace, where the name starts with a NUL byte and
// the address ends with its last character (no terminating NUL).
net::Result<net::Address> notify_address(std::string_view path) {
  if (path.starts_with('@')) {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    if (path.size() > sizeof(un.sun_path)) return bad_notify_socket(path, "name too long");
    std::memcpy(un.sun_path + 1, path.data() + 1, path.size() - 1);
    return net::Address(reinterpret_cast<const sockaddr*>(&un),
                        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size()));
  }
  if (!path.starts_with('/')) return bad_notify_socket(path, "neither an absolute path nor @name");
  return net::Address::unix_path(path);
}

// One line per assignment: a line break inside a value would start another assignment.
std::string one_line(std::string_view text) {
  std::string line(text);
  for (auto& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  return line;
}

// The notifier, or why NOTIFY_SOCKET named none: every send reports that error again.
net::Result<void> send_to_systemd(std::string_view state) {
  static const net::Result<Notifier> notifier = [] {
    const char* value = std::getenv("NOTIFY_SOCKET");
    const std::string path = value ? value : "";
    ::unsetenv("NOTIFY_SOCKET");
    return Notifier::create(path);
  }();
  if (!notifier) return notifier.error();
  return notifier->send(state);
}

}  // namespace

net::Result<Notifier> Notifier::create(std::string_view socket_path) {
  Notifier notifier;
  if (socket_path.empty()) return notifier;
  auto address = notify_address(socket_path);
  if (!address) return address.error();
  notifier.to_ = *address;
  notifier.path_ = socket_path;
  return notifier;
}

net::Result<void> Notifier::send(std::string_view state) const {
  if (!active()) return {};
  auto socket = net::Socket::create(AF_UNIX, SOCK_DGRAM);
  if (!socket) return socket.error();
  if (auto r = net::set_send_timeout(socket->fd(), kSendTimeout); !r) return r.error();
  auto sent = net::send_to(socket->fd(), net::as_bytes(state), *to_);
  if (!sent) return net::Error("send", sent.error().code(), "NOTIFY_SOCKET=" + path_);
  return {};
}

net::Result<void> notify_ready(std::string_view status) {
  return send_to_systemd(fmt::format("READY=1\nSTATUS={}", one_line(status)));
}

net::Result<void> notify_reloading() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<long long>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
  return send_to_systemd(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", usec));
}

net::Result<void> notify_stopping(std::string_view status) {
  return send_to_systemd(fmt::format("STOPPING=1\nSTATUS={}", one_line(status)));
}

net::Result<void> notify_status(std::string_view text) {
  return send_to_systemd(fmt::format("STATUS={}", one_line(text)));
}

void log_notify_failure(const net::Result<void>& sent, Log& log) {
  if (!sent) log.notice(fmt::format("systemd notification failed: {}", sent.error().what()));
}

}  // namespace sockit::serve
