#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <span>
#include <string>

#include "serve/output.hpp"
#include "serve/session.hpp"

namespace sockit::testing {

/// Offers `in` to `session` as every model does and checks Session's input contract: it takes
/// every byte unless its output is full. Returns the verdict.
inline serve::Verdict offer(serve::Session& session, std::span<const std::byte> in, serve::Output& out) {
  const auto taken = session.receive(in, out);
  EXPECT_LE(taken.bytes, in.size());
  if (taken.verdict == serve::Verdict::keep_going && taken.bytes < in.size()) {
    EXPECT_TRUE(out.full()) << "took " << taken.bytes << " of " << in.size() << " bytes with room for more output";
  }
  return taken.verdict;
}

/// What a client would receive from `out`: its bytes, with every file range read in.
inline std::string received(const serve::Output& out) {
  std::string text;
  out.for_each([&](const serve::Output::Piece& piece) {
    if (!piece.is_file()) {
      text.append(reinterpret_cast<const char*>(piece.bytes.data()), piece.bytes.size());
      return;
    }
    std::string chunk(piece.length, '\0');
    const auto n = ::pread(piece.file, chunk.data(), chunk.size(), static_cast<off_t>(piece.offset));
    EXPECT_EQ(n, static_cast<ssize_t>(chunk.size())) << "a file range past the end of its file";
    text += chunk;
  });
  return text;
}

}  // namespace sockit::testing
