// The peer block protocol, server side (cascade-protocol.md §3).
#include "cascade/block_server.hpp"

#include <fmt/core.h>

namespace sockit::cascade {
namespace {

class BlockSession : public serve::Session {
 public:
  BlockSession(const BlockProvider& provider, std::string peer) : provider_(provider), peer_(std::move(peer)) {}

  serve::Verdict receive(std::span<const std::byte> in, serve::Output& out) override {
    while (!in.empty()) {
      const auto take = std::min(in.size(), kBlockRequestSize - pending_.size());
      pending_.insert(pending_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
      in = in.subspan(take);
      if (pending_.size() < kBlockRequestSize) break;
      const auto verdict = answer(out);
      pending_.clear();
      if (verdict == serve::Verdict::close) return verdict;
    }
    return serve::Verdict::keep_going;
  }

  serve::Verdict end_of_input(serve::Output& out) override {
    if (!pending_.empty())
      message(BlockStatus::malformed, fmt::format("short request: {} of {} bytes", pending_.size(), kBlockRequestSize),
              out);
    return serve::Verdict::close;
  }

  std::size_t requests() const noexcept override { return requests_; }

 private:
  serve::Verdict answer(serve::Output& out) {
    ++requests_;
    auto request = decode_block_request(std::span<const std::byte, kBlockRequestSize>(pending_.data(), kBlockRequestSize));
    if (!request) return message(BlockStatus::malformed, "malformed request: bad magic (expected CASCADE1)", out);
    switch (provider_.read_block(request->cascade_hash, request->index, block_)) {
      case BlockStatus::ok: {
        const auto header = encode_block_header(BlockStatus::ok, block_.size());
        out.append(header);
        out.append(block_);
        return serve::Verdict::keep_going;
      }
      case BlockStatus::unknown_file:
        return message(BlockStatus::unknown_file,
                       fmt::format("no file with cascade hash {} here", to_hex(request->cascade_hash)), out);
      case BlockStatus::past_end:
        return message(BlockStatus::past_end, fmt::format("block {} is past the end of the file", request->index), out);
      case BlockStatus::missing:
      case BlockStatus::malformed:
        break;
    }
    return message(BlockStatus::missing, fmt::format("block {} is not here (yet)", request->index), out);
  }

  serve::Verdict message(BlockStatus status, const std::string& text, serve::Output& out) {
    if (status != BlockStatus::missing) complaints().push_back(fmt::format("block request from {}: {}", peer_, text));
    out.append(encode_block_header(status, text.size()));
    out.append(text);
    return status == BlockStatus::missing ? serve::Verdict::keep_going : serve::Verdict::close;
  }

  const BlockProvider& provider_;
  std::string peer_;
  std::vector<std::byte> pending_;
  std::vector<std::byte> block_;
  std::size_t requests_ = 0;
};

}  // namespace

std::unique_ptr<serve::Session> BlockService::new_session(const serve::SessionContext& context) const {
  return std::make_unique<BlockSession>(*provider_, context.peer);
}

}  // namespace sockit::cascade
