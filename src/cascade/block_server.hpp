#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "cascade/protocol.hpp"
#include "serve/output.hpp"
#include "serve/session.hpp"

namespace sockit::cascade {

/// Where the block server gets blocks from. Implementations must be thread-safe: models call
/// sessions from several threads at once.
class BlockProvider {
 public:
  virtual ~BlockProvider() = default;
  /// ok: `out` is the block's range of its (verified) data file. Otherwise unknown_file,
  /// past_end or missing. Never blocks.
  virtual BlockStatus locate_block(const Digest& cascade_hash, std::uint64_t index, serve::FileRange& out) const = 0;
};

/// The peer's block server (cascade-protocol.md §3) as a serve::Service: each 64-byte request
/// is answered with the 9-byte header and the block as a file range (sent with sendfile: no
/// block passes through user memory), or with a message. Pipelined requests are answered in
/// order while the output has room (a block fills 1 MiB of budget); the rest wait. Keeps the
/// connection after 0 and 2, closes it after 1, 3 and 4.
class BlockService : public serve::Service {
 public:
  explicit BlockService(std::shared_ptr<const BlockProvider> provider) : provider_(std::move(provider)) {}

  std::string_view name() const noexcept override { return "cascade-blocks"; }
  std::unique_ptr<serve::Session> new_session(const serve::SessionContext& context) const override;

 private:
  std::shared_ptr<const BlockProvider> provider_;
};

}  // namespace sockit::cascade
