#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace sockit::cascade {

/// A SHA-256 digest: block hash, target hash or cascade hash.
using Digest = std::array<std::byte, 32>;

/// SHA-256 of `data` in one call (OpenSSL EVP).
Digest sha256(std::span<const std::byte> data);

/// Incremental SHA-256 for data that arrives in pieces. Not thread-safe; one per thread.
class Sha256 {
 public:
  /// Throws std::bad_alloc if OpenSSL cannot make a context.
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::span<const std::byte> data);
  /// The digest of everything given so far; the object starts over afterwards.
  Digest finish();

 private:
  struct Free {
    void operator()(evp_md_ctx_st* context) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, Free> context_;
};

/// 64 lower-case hex digits.
std::string to_hex(const Digest& digest);
/// The digest written as 64 hex digits (either case), or nullopt.
std::optional<Digest> digest_from_hex(std::string_view hex);

}  // namespace sockit::cascade
