#include "tools/tls_context.hpp"

#include <openssl/err.h>

#include "tools/tls_error.hpp"
#include "tools/tls_self_signed.hpp"

namespace sockit::tools {
namespace {

using net::Result;

// A record is at most 16 KiB of plaintext plus header, padding and tag; with read-ahead one
// recv() takes up to eight records at once.
constexpr int kReadBufferSize = 8 * (16384 + 512);

Result<SslCtxPtr> new_context(const SSL_METHOD* method) {
  SslCtxPtr ctx(SSL_CTX_new(method));
  if (!ctx) return tls_error("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // The relay keeps its own buffers: a write may take part of them and move between calls.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // A peer that closes TCP without close_notify ends its direction like a FIN does in plain nc
  // (socat and many servers do that).
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_read_ahead(ctx.get(), 1);
  SSL_CTX_set_default_read_buffer_len(ctx.get(), kReadBufferSize);
  return ctx;
}

Result<void> load_trust(SSL_CTX* ctx, const TlsOptions& o) {
  if (o.trust_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) return tls_error("load the system trust store");
  } else if (SSL_CTX_load_verify_locations(ctx, o.trust_file.c_str(), nullptr) != 1) {
    return tls_error("load CA bundle " + o.trust_file);
  }
  return {};
}

Result<void> load_certificate(SSL_CTX* ctx, const TlsOptions& o) {
  const std::string& key = o.key_file.empty() ? o.cert_file : o.key_file;
  if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1)
    return tls_error("load certificate " + o.cert_file);
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) return tls_error("load private key " + key);
  if (SSL_CTX_check_private_key(ctx) != 1) return tls_error("match key " + key + " to certificate " + o.cert_file);
  return {};
}

// Server side of ALPN: the first of our protocols that the client offers; none in common
// goes on without ALPN (as if we had none), as nginx does.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* offered,
                unsigned int offered_size, void* ours) {
  const auto& wire = *static_cast<const std::vector<unsigned char>*>(ours);
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_size, wire.data(), static_cast<unsigned int>(wire.size()), offered,
                            offered_size) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

Result<std::vector<std::string>> parse_alpn_list(const std::string& text) {
  std::vector<std::string> names;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    std::string name = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (name.empty() || name.size() > 255)
      return net::Error("parse ALPN list", net::Errc::bad_address, text,
                        "each protocol name is 1 to 255 bytes, separated by commas");
    names.push_back(std::move(name));
    if (comma == std::string::npos) return names;
    start = comma + 1;
  }
}

std::vector<unsigned char> alpn_wire(const std::vector<std::string>& names) {
  std::vector<unsigned char> wire;
  for (const auto& name : names) {
    wire.push_back(static_cast<unsigned char>(name.size()));
    wire.insert(wire.end(), name.begin(), name.end());
  }
  return wire;
}

Result<TlsContext> client_context(const TlsOptions& o) {
  auto ctx = new_context(TLS_client_method());
  if (!ctx) return ctx.error();
  TlsContext made;
  made.ctx = std::move(*ctx);
  SSL_CTX* c = made.ctx.get();
  if (o.verify || !o.trust_file.empty()) {
    if (auto r = load_trust(c, o); !r) return r.error();
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  }
  if (!o.cert_file.empty())
    if (auto r = load_certificate(c, o); !r) return r.error();
  if (!o.alpn.empty()) {
    const auto wire = alpn_wire(o.alpn);
    // The one OpenSSL call that returns 0 for success.
    if (SSL_CTX_set_alpn_protos(c, wire.data(), static_cast<unsigned int>(wire.size())) != 0)
      return tls_error("SSL_CTX_set_alpn_protos");
  }
  return made;
}

Result<TlsContext> server_context(const TlsOptions& o) {
  auto ctx = new_context(TLS_server_method());
  if (!ctx) return ctx.error();
  TlsContext made;
  made.ctx = std::move(*ctx);
  SSL_CTX* c = made.ctx.get();
  if (!o.cert_file.empty()) {
    if (auto r = load_certificate(c, o); !r) return r.error();
  } else {
    auto self_signed = make_self_signed("localhost", 24L * 3600);
    if (!self_signed) return self_signed.error();
    if (SSL_CTX_use_certificate(c, self_signed->certificate.get()) != 1 ||
        SSL_CTX_use_PrivateKey(c, self_signed->key.get()) != 1)
      return tls_error("use the self-signed certificate");
    made.generated_certificate = "generated a temporary self-signed certificate (EC P-256, CN=localhost), "
                                 "SHA-256 fingerprint " + sha256_fingerprint(self_signed->certificate.get());
  }
  if (o.verify || !o.trust_file.empty()) {
    if (auto r = load_trust(c, o); !r) return r.error();
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  if (!o.alpn.empty()) {
    made.alpn = std::make_unique<std::vector<unsigned char>>(alpn_wire(o.alpn));
    SSL_CTX_set_alpn_select_cb(c, select_alpn, made.alpn.get());
  }
  return made;
}

}  // namespace sockit::tools
