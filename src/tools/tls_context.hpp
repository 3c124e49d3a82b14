#pragma once

#include <memory>
#include <string>
#include <vector>

#include "net/result.hpp"
#include "tools/tls_handles.hpp"

namespace sockit::tools {

/// What `--ssl*` asked for.
struct TlsOptions {
  /// Check the peer's certificate: the server's against the name we connect to, or (listening)
  /// require a client certificate. With an empty trust_file, against the system trust store.
  bool verify = false;
  std::string trust_file;  ///< PEM CA bundle; implies verify
  std::string cert_file;   ///< PEM certificate (chain) we present
  std::string key_file;    ///< PEM private key of cert_file (default: cert_file itself)
  std::vector<std::string> alpn;  ///< protocols to offer (client) or accept (server), in order
};

/// A configured SSL_CTX and what the CLI may want to say about it.
struct TlsContext {
  SslCtxPtr ctx;
  /// Listening without a certificate: "SHA-256 fingerprint of the temporary certificate: ...".
  std::string generated_certificate;
  /// Listening with ALPN: the protocols the selection callback chooses from (owned here, on the
  /// heap, so that its address stays valid when the context moves).
  std::unique_ptr<std::vector<unsigned char>> alpn;
};

/// Parses "h2,http/1.1" into its names; an empty name or one over 255 bytes is an error.
net::Result<std::vector<std::string>> parse_alpn_list(const std::string& text);

/// The ALPN wire format (each name preceded by its length byte).
std::vector<unsigned char> alpn_wire(const std::vector<std::string>& names);

/// A TLS 1.2+ client context: trust store (system or trust_file) when verifying, the client
/// certificate when given, the ALPN offer.
net::Result<TlsContext> client_context(const TlsOptions& options);

/// A TLS 1.2+ server context: cert_file/key_file, or a throwaway self-signed certificate
/// (CN=localhost, valid for a day) when none is given, as ncat does; with verify, clients
/// must present a certificate that the trust store accepts.
net::Result<TlsContext> server_context(const TlsOptions& options);

}  // namespace sockit::tools
