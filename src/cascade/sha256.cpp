#include "cascade/sha256.hpp"

#include <openssl/evp.h>

#include <new>

namespace sockit::cascade {

Digest sha256(std::span<const std::byte> data) {
  Digest digest{};
  unsigned length = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(digest.data()), &length, EVP_sha256(),
                 nullptr) != 1)
    throw std::bad_alloc();
  return digest;
}

void Sha256::Free::operator()(evp_md_ctx_st* context) const noexcept { EVP_MD_CTX_free(context); }

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
}

Sha256::~Sha256() = default;

void Sha256::update(std::span<const std::byte> data) { EVP_DigestUpdate(context_.get(), data.data(), data.size()); }

Digest Sha256::finish() {
  Digest digest{};
  unsigned length = 0;
  EVP_DigestFinal_ex(context_.get(), reinterpret_cast<unsigned char*>(digest.data()), &length);
  EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr);
  return digest;
}

std::string to_hex(const Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(64);
  for (auto b : digest) {
    const auto v = std::to_integer<unsigned>(b);
    text += kDigits[v >> 4];
    text += kDigits[v & 15];
  }
  return text;
}

std::optional<Digest> digest_from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Digest digest{};
  for (std::size_t i = 0; i < 32; ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    digest[i] = static_cast<std::byte>(hi * 16 + lo);
  }
  return digest;
}

}  // namespace sockit::cascade
