#pragma once

#include <openssl/bio.h>

#include <cstddef>
#include <vector>

namespace sockit::tools {

/// Ciphertext on its way to a non-blocking socket. OpenSSL writes each TLS record (at most
/// 16 KiB of plaintext) with its own BIO_write; through an Outbox the records of one SSL_write
/// gather and leave with one send() of up to kLimit bytes, so bulk transfers make a quarter of
/// the system calls (and loopback TCP segments) or fewer. Borrows the socket.
class Outbox {
 public:
  static constexpr std::size_t kLimit = 256 * 1024;

  explicit Outbox(int socket) : socket_(socket) {}
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  /// A BIO that writes into this outbox (for SSL_set_bio; the SSL then owns the BIO, this
  /// outbox must outlive it). A write that finds the outbox full tries flush() first and
  /// reports would-block (BIO retry) when the socket takes nothing; BIO_flush is flush().
  /// Nullptr when OpenSSL could not make it.
  BIO* new_bio();

  /// Sends what waits, as long as the socket takes it. 1: all sent; 0: the socket is full (wait
  /// for POLLOUT); -1: failed (errno says why).
  int flush();
  std::size_t unsent() const noexcept { return bytes_.size() - begin_; }

 private:
  void append(const void* data, std::size_t size);

  int socket_;
  std::vector<std::byte> bytes_;
  std::size_t begin_ = 0;

  friend struct OutboxBio;
};

}  // namespace sockit::tools
