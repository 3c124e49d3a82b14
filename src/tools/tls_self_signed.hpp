#pragma once

#include <string>

#include "net/result.hpp"
#include "tools/tls_handles.hpp"

namespace sockit::tools {

/// A key pair and the certificate it signed itself.
struct SelfSigned {
  EvpPkeyPtr key;
  X509Ptr certificate;
};

/// Generates an EC P-256 key and a self-signed X.509 v3 certificate for it: subject and issuer
/// CN=`common_name`, subjectAltName DNS:`common_name`, valid from now for `seconds`.
net::Result<SelfSigned> make_self_signed(const std::string& common_name, long seconds);

/// "AB:CD:..." : the SHA-256 digest of the certificate's DER form.
std::string sha256_fingerprint(X509* certificate);

}  // namespace sockit::tools
