#pragma once

#include <chrono>
#include <optional>

#include "net/result.hpp"

namespace sockit::net {

/// Typed socket options: the notes' table (SO_KEEPALIVE ... IP_RECVIF) plus the ones servers
/// need. Setters and getters take a borrowed descriptor.

Result<void> set_keepalive(int fd, bool on);
Result<bool> keepalive(int fd);

/// SO_LINGER: nullopt turns lingering off; a duration makes close() wait that long for unsent
/// data; zero makes close() send RST.
Result<void> set_linger(int fd, std::optional<std::chrono::seconds> linger);
Result<std::optional<std::chrono::seconds>> linger(int fd);

/// SO_RCVBUF/SO_SNDBUF. Linux doubles what is set (for its bookkeeping) and reports the double.
Result<void> set_receive_buffer(int fd, int bytes);
Result<int> receive_buffer(int fd);
Result<void> set_send_buffer(int fd, int bytes);
Result<int> send_buffer(int fd);

/// SO_RCVLOWAT: the least a read waits for. SO_SNDLOWAT cannot be changed on Linux (ENOPROTOOPT).
Result<void> set_receive_low_water(int fd, int bytes);
Result<int> receive_low_water(int fd);
Result<void> set_send_low_water(int fd, int bytes);
Result<int> send_low_water(int fd);

Result<void> set_reuse_address(int fd, bool on);
Result<bool> reuse_address(int fd);
Result<void> set_reuse_port(int fd, bool on);
Result<bool> reuse_port(int fd);
/// IPV6_V6ONLY: on, an IPv6 socket refuses IPv4-mapped peers.
Result<void> set_v6_only(int fd, bool on);

/// IP_TTL (IPv4) or IPV6_UNICAST_HOPS (IPv6), chosen by the socket's family.
Result<void> set_ttl(int fd, int hops);
Result<int> ttl(int fd);

Result<void> set_no_delay(int fd, bool on);
Result<bool> no_delay(int fd);

/// IP_PKTINFO (Linux's IP_RECVIF): each received datagram carries the interface and local
/// address it arrived on, read with recvmsg().
Result<void> set_packet_info(int fd, bool on);
Result<bool> packet_info(int fd);

/// SO_RCVTIMEO/SO_SNDTIMEO: a blocking recv/send fails with EAGAIN after this long (0: never).
Result<void> set_receive_timeout(int fd, std::chrono::milliseconds timeout);
Result<std::chrono::milliseconds> receive_timeout(int fd);
Result<void> set_send_timeout(int fd, std::chrono::milliseconds timeout);
Result<std::chrono::milliseconds> send_timeout(int fd);

/// What a socket is, for a descriptor this process did not make (systemd's LISTEN_FDS): its
/// family (SO_DOMAIN: AF_INET ...), type (SO_TYPE: SOCK_STREAM ...), protocol (SO_PROTOCOL:
/// IPPROTO_TCP ...), and whether listen() was called on it (SO_ACCEPTCONN). Read-only.
Result<int> socket_family(int fd);
Result<int> socket_type(int fd);
Result<int> socket_protocol(int fd);
Result<bool> listening(int fd);

}  // namespace sockit::net
