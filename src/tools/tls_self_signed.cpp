#include "tools/tls_self_signed.hpp"

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <fmt/core.h>

#include "tools/tls_error.hpp"

namespace sockit::tools {

net::Result<SelfSigned> make_self_signed(const std::string& common_name, long seconds) {
  SelfSigned made;
  made.key.reset(EVP_EC_gen("P-256"));
  if (!made.key) return tls_error("generate an EC P-256 key");
  made.certificate.reset(X509_new());
  X509* cert = made.certificate.get();
  if (!cert) return tls_error("X509_new");

  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return tls_error("RAND_bytes");
  serial[0] &= 0x7f;  // a positive serial number (RFC 5280 4.1.2.2)
  BIGNUM* number = BN_bin2bn(serial, sizeof serial, nullptr);
  const bool serial_set = number && BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert));
  BN_free(number);
  if (!serial_set) return tls_error("set the certificate's serial number");

  X509_NAME* name = X509_get_subject_name(cert);
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
  if (X509_set_version(cert, 2) != 1 || !X509_gmtime_adj(X509_getm_notBefore(cert), 0) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert), seconds) ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert, name) != 1 || X509_set_pubkey(cert, made.key.get()) != 1)
    return tls_error("fill in the self-signed certificate");

  const std::string san = "DNS:" + common_name;
  X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str()));
  if (!extension || X509_add_ext(cert, extension.get(), -1) != 1)
    return tls_error("add subjectAltName to the self-signed certificate");
  if (X509_sign(cert, made.key.get(), EVP_sha256()) == 0) return tls_error("sign the self-signed certificate");
  return made;
}

std::string sha256_fingerprint(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(certificate, EVP_sha256(), digest, &size) != 1) return "?";
  std::string text;
  for (unsigned int i = 0; i < size; ++i) text += fmt::format("{}{:02X}", i ? ":" : "", digest[i]);
  return text;
}

}  // namespace sockit::tools
