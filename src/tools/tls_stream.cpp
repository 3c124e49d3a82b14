#include "tools/tls_stream.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <climits>

#include "tools/tls_error.hpp"
#include "tools/tls_outbox.hpp"

namespace sockit::tools {
namespace {

using net::Result;

bool is_ip_address(const std::string& name) {
  unsigned char address[16];
  return ::inet_pton(AF_INET, name.c_str(), address) == 1 || ::inet_pton(AF_INET6, name.c_str(), address) == 1;
}

// Reads come straight from the socket; writes gather in `outbox`.
Result<SslPtr> new_ssl(SSL_CTX* ctx, int socket, Outbox& outbox, const std::string& peer) {
  SslPtr ssl(SSL_new(ctx));
  if (!ssl) return tls_error("SSL_new for " + peer);
  // BIO_NOCLOSE: the caller's Socket owns the descriptor.
  BIO* reader = BIO_new_socket(socket, BIO_NOCLOSE);
  BIO* writer = outbox.new_bio();
  if (!reader || !writer) {
    BIO_free(reader);
    BIO_free(writer);
    return tls_error("make the BIOs of " + peer);
  }
  SSL_set_bio(ssl.get(), reader, writer);  // the SSL owns both now
  return ssl;
}

int clamp(std::size_t size) { return static_cast<int>(std::min<std::size_t>(size, INT_MAX)); }

}  // namespace

Result<TlsStream> TlsStream::client(SSL_CTX* ctx, int socket, const std::string& server_name, std::string peer) {
  auto outbox = std::make_unique<Outbox>(socket);
  auto ssl = new_ssl(ctx, socket, *outbox, peer);
  if (!ssl) return ssl.error();
  SSL* s = ssl->get();
  const bool ip = is_ip_address(server_name);
  if (SSL_get_verify_mode(s) & SSL_VERIFY_PEER) {
    X509_VERIFY_PARAM* param = SSL_get0_param(s);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str())
                       : X509_VERIFY_PARAM_set1_host(param, server_name.c_str(), server_name.size());
    if (set != 1) return tls_error("expect the name " + server_name + " in the certificate of " + peer);
  }
  // RFC 6066 3: SNI carries DNS names only, never an address literal.
  if (!ip && !server_name.empty() && SSL_set_tlsext_host_name(s, server_name.c_str()) != 1)
    return tls_error("set SNI " + server_name + " for " + peer);
  SSL_set_connect_state(s);
  return TlsStream(std::move(outbox), std::move(*ssl), std::move(peer));
}

Result<TlsStream> TlsStream::server(SSL_CTX* ctx, int socket, std::string peer) {
  auto outbox = std::make_unique<Outbox>(socket);
  auto ssl = new_ssl(ctx, socket, *outbox, peer);
  if (!ssl) return ssl.error();
  SSL_set_accept_state(ssl->get());
  return TlsStream(std::move(outbox), std::move(*ssl), std::move(peer));
}

Result<void> TlsStream::handshake(net::Deadline deadline) {
  const std::string call = "TLS handshake with " + peer_;
  const int fd = SSL_get_rfd(ssl_.get());
  for (;;) {
    // What OpenSSL wrote must be out before we wait for the peer's answer to it.
    while (outbox_->unsent() > 0) {
      const int flushed = outbox_->flush();
      if (flushed < 0) return net::errno_error(call);
      if (flushed == 0)
        if (auto ready = net::wait_ready(fd, POLLOUT, deadline, call); !ready) return ready.error();
    }
    if (done_) return {};
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_do_handshake(ssl_.get());
    if (ret == 1) {
      done_ = true;
      continue;
    }
    const int reason = SSL_get_error(ssl_.get(), ret);
    if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) {
      const short events = reason == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
      if (auto ready = net::wait_ready(fd, events, deadline, call); !ready) return ready.error();
      continue;
    }
    const long verified = SSL_get_verify_result(ssl_.get());
    return tls_error(call, verified == X509_V_OK ? "" : X509_verify_cert_error_string(verified));
  }
}

Result<TlsIo> TlsStream::outcome(int ret, const char* call) {
  switch (SSL_get_error(ssl_.get(), ret)) {
    case SSL_ERROR_WANT_READ: return TlsIo{.wait = POLLIN};
    case SSL_ERROR_WANT_WRITE: return TlsIo{.wait = POLLOUT};
    case SSL_ERROR_ZERO_RETURN: return TlsIo{.closed = true};
    case SSL_ERROR_SYSCALL:
      // No error queued and no errno: the TCP connection ended under TLS.
      if (ERR_peek_error() == 0 && errno == 0) return TlsIo{.closed = true};
      [[fallthrough]];
    default: return tls_error(std::string(call) + " " + peer_);
  }
}

Result<TlsIo> TlsStream::read(std::span<std::byte> buffer) {
  ERR_clear_error();
  errno = 0;
  const int n = SSL_read(ssl_.get(), buffer.data(), clamp(buffer.size()));
  if (n > 0) return TlsIo{.bytes = static_cast<std::size_t>(n)};
  return outcome(n, "TLS recv from");
}

Result<TlsIo> TlsStream::write(std::span<const std::byte> data) {
  ERR_clear_error();
  errno = 0;
  const int n = SSL_write(ssl_.get(), data.data(), clamp(data.size()));
  if (n > 0) return TlsIo{.bytes = static_cast<std::size_t>(n)};
  return outcome(n, "TLS send to");
}

Result<TlsIo> TlsStream::send_close_notify() {
  if (!close_notify_queued_) {
    ERR_clear_error();
    errno = 0;
    // 0: ours is written, the peer's has not come yet; 1: both. Either way ours is queued.
    const int ret = SSL_shutdown(ssl_.get());
    if (ret < 0) {
      auto io = outcome(ret, "TLS close_notify to");
      if (io && io->closed) return TlsIo{};  // the peer is gone already: nothing left to tell it
      return io;
    }
    close_notify_queued_ = true;
  }
  return flush();
}

Result<TlsIo> TlsStream::flush() {
  const int flushed = outbox_->flush();
  if (flushed < 0) return net::errno_error("TLS send to " + peer_);
  return TlsIo{.wait = flushed == 0 ? short{POLLOUT} : short{0}};
}

std::size_t TlsStream::unsent() const noexcept { return outbox_->unsent(); }

bool TlsStream::has_pending() const { return SSL_pending(ssl_.get()) > 0 || SSL_has_pending(ssl_.get()) == 1; }

std::string TlsStream::description() const {
  SSL* s = ssl_.get();
  std::string text = std::string(SSL_get_version(s)) + " " + SSL_get_cipher_name(s);
  const unsigned char* alpn = nullptr;
  unsigned int alpn_size = 0;
  SSL_get0_alpn_selected(s, &alpn, &alpn_size);
  if (alpn_size > 0) text += ", ALPN " + std::string(reinterpret_cast<const char*>(alpn), alpn_size);
  if (SSL_is_server(s))
    if (const char* sni = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name)) text += ", SNI " + std::string(sni);
  if (X509* cert = SSL_get0_peer_certificate(s)) {
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
    text += ", peer certificate " + std::string(subject);
    text += SSL_get_verify_result(s) == X509_V_OK && (SSL_get_verify_mode(s) & SSL_VERIFY_PEER) ? " (verified)"
                                                                                              : " (not verified)";
  }
  return text;
}

}  // namespace sockit::tools
