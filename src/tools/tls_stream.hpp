#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "net/deadline.hpp"
#include "net/result.hpp"
#include "tools/tls_handles.hpp"
#include "tools/tls_outbox.hpp"

namespace sockit::tools {

/// What one non-blocking TLS call did.
struct TlsIo {
  std::size_t bytes = 0;  ///< plaintext bytes taken or given
  /// Non-zero: the call could not finish and must be repeated (with the same arguments, for a
  /// write) once the socket is ready for these poll() events (POLLIN or POLLOUT). A read may
  /// want POLLOUT and a write POLLIN: TLS has messages of its own in both directions.
  short wait = 0;
  bool closed = false;  ///< read: the peer finished (close_notify, or TCP EOF without it)
};

/// A TLS connection over a connected, non-blocking stream socket that it borrows (the caller
/// closes the socket after the stream is gone). Errors name `peer`. Move-only; one thread.
class TlsStream {
 public:
  /// A client: with verification on in `ctx`, the certificate must match `server_name`
  /// (a DNS name, or an IP address checked against the IP SANs); a DNS name is sent as SNI.
  static net::Result<TlsStream> client(SSL_CTX* ctx, int socket, const std::string& server_name, std::string peer);
  static net::Result<TlsStream> server(SSL_CTX* ctx, int socket, std::string peer);

  /// Blocks until the handshake is done or `deadline` passes. A failure reads like
  /// "TLS handshake with 127.0.0.1:4433 failed: certificate verify failed (self-signed certificate)".
  net::Result<void> handshake(net::Deadline deadline);

  /// Never block. read() gives what the TLS layer has, at most `buffer.size()` bytes. What
  /// read() and write() make OpenSSL write gathers in an outbox (see Outbox): call flush()
  /// before waiting for the peer.
  net::Result<TlsIo> read(std::span<std::byte> buffer);
  net::Result<TlsIo> write(std::span<const std::byte> data);
  /// Sends what the outbox holds; wait is POLLOUT while some is left.
  net::Result<TlsIo> flush();
  std::size_t unsent() const noexcept;
  /// Queues close_notify and flushes (our direction ends; the peer's may go on). Repeat while
  /// it says wait: it is out when it does not.
  net::Result<TlsIo> send_close_notify();
  /// Bytes already received and waiting in the TLS layer, decrypted or not (no socket event
  /// will announce them: read again before waiting for POLLIN).
  bool has_pending() const;

  /// For -v: "TLSv1.3 TLS_AES_256_GCM_SHA384, ALPN h2, SNI localhost, peer CN=...".
  std::string description() const;
  const std::string& peer() const noexcept { return peer_; }

 private:
  TlsStream(std::unique_ptr<Outbox> outbox, SslPtr ssl, std::string peer)
      : outbox_(std::move(outbox)), ssl_(std::move(ssl)), peer_(std::move(peer)) {}
  net::Result<TlsIo> outcome(int ret, const char* call);

  // Declared before ssl_, so destroyed after it: the SSL's BIO points at the outbox.
  std::unique_ptr<Outbox> outbox_;
  SslPtr ssl_;
  std::string peer_;
  bool done_ = false;  // handshake finished
  bool close_notify_queued_ = false;
};

}  // namespace sockit::tools
