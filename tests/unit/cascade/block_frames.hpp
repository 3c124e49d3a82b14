#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "cascade/protocol.hpp"
#include "test_support.hpp"

namespace sockit::cascade::testing {

/// A block answer as a peer sends it: the 9-byte header (status, length) and the body. `length`
/// lies about the body's size when given.
inline std::vector<std::byte> block_answer(std::uint8_t status, std::string_view body,
                                           std::optional<std::uint64_t> length = {}) {
  // Sized once and filled: g++ 12 -O3 sees a false out-of-bounds in insert() after a 9-byte start.
  const auto header = encode_block_header(static_cast<BlockStatus>(status), length.value_or(body.size()));
  std::vector<std::byte> out(header.size() + body.size());
  std::copy(header.begin(), header.end(), out.begin());
  const auto bytes = sockit::testing::bytes_of(body);
  std::copy(bytes.begin(), bytes.end(), out.begin() + static_cast<std::ptrdiff_t>(header.size()));
  return out;
}

}  // namespace sockit::cascade::testing
