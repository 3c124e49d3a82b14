// One connection to Redis: hiredis formats and parses (redis_reply), sockit's net layer does the
// I/O, so every round trip has one deadline and every error names the server.
#include "cascade/redis_connection.hpp"

#include <fmt/core.h>
#include <openssl/evp.h>

#include <array>
#include <new>
#include <string>
#include <vector>

#include "net/io.hpp"
#include "net/options.hpp"

namespace sockit::cascade {
namespace {

std::string sha1_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha1(), nullptr) != 1) throw std::bad_alloc();
  std::string hex;
  for (unsigned i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace

RedisScript::RedisScript(std::string text) : source(std::move(text)), sha1(sha1_hex(source)) {}

RedisConnection::RedisConnection(net::Socket socket, std::string server)
    : socket_(std::move(socket)),
      server_(std::move(server)),
      reader_(std::make_unique<RedisReplyReader>(kMaxReplyBytes, kMaxReplyElements)) {}

net::Result<RedisConnection> RedisConnection::open(const net::Address& server, net::Deadline deadline) {
  auto socket = net::Socket::create(server.family(), SOCK_STREAM);
  if (!socket) return socket.error();
  if (auto connected = socket->connect(server, deadline); !connected) return connected.error();
  // One small command, then its reply: nothing for Nagle to gather.
  if (server.is_ip()) (void)net::set_no_delay(socket->fd(), true);
  return RedisConnection(std::move(*socket), server.to_string());
}

net::Result<std::unique_ptr<RedisReply>> RedisConnection::call(std::span<const std::string_view> args,
                                                               net::Deadline deadline) {
  const auto command = format_redis_command(args);
  if (auto sent = net::send_all(socket_.fd(), net::as_bytes(command), deadline); !sent) return sent.error();
  std::array<std::byte, 16 * 1024> buffer;
  for (;;) {
    auto reply = reader_->next();
    if (!reply) return net::Error(reply.error().call(), reply.error().code(), server_, reply.error().detail());
    if (*reply) return std::move(*reply);
    auto got = net::recv_some(socket_.fd(), buffer, deadline);
    if (!got) return got.error();
    if (*got == 0) return net::Error("recv", net::Errc::unexpected_eof, server_, "Redis closed the connection");
    if (auto fed = reader_->feed(std::span(buffer).first(*got)); !fed)
      return net::Error(fed.error().call(), fed.error().code(), server_, fed.error().detail());
  }
}

net::Result<std::unique_ptr<RedisReply>> RedisConnection::eval(const RedisScript& script,
                                                               std::span<const std::string_view> keys,
                                                               std::span<const std::string_view> args,
                                                               net::Deadline deadline) {
  const auto key_count = std::to_string(keys.size());
  std::vector<std::string_view> command{"EVALSHA", script.sha1, key_count};
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  auto reply = call(command, deadline);
  if (!reply || !(*reply)->is_error() || !(*reply)->text.starts_with("NOSCRIPT")) return reply;
  command[0] = "EVAL";
  command[1] = script.source;
  return call(command, deadline);
}

}  // namespace sockit::cascade
