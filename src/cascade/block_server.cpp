// The peer block protocol, server side (cascade-protocol.md §3).
#include "cascade/block_server.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>

namespace sockit::cascade {
namespace {

class BlockSession : public serve::Session {
 public:
  explicit BlockSession(const BlockProvider& provider) : provider_(provider) {}

  serve::Taken receive(std::span<const std::byte> in, serve::Output& out) override {
    std::size_t taken = 0;
    while (taken < in.size()) {
      if (pending_size_ == 0 && out.full()) return {taken};  // the next request waits for room
      const auto take = std::min(in.size() - taken, kBlockRequestSize - pending_size_);
      std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(taken), take, pending_.begin() + pending_size_);
      pending_size_ += take;
      taken += take;
      if (pending_size_ < kBlockRequestSize) break;
      pending_size_ = 0;
      if (answer(out) == serve::Verdict::close) return {in.size(), serve::Verdict::close};
    }
    return {in.size()};
  }

  serve::Verdict end_of_input(serve::Output& out) override {
    if (pending_size_ != 0)
      message(BlockStatus::malformed, fmt::format("short request: {} of {} bytes", pending_size_, kBlockRequestSize),
              out);
    return serve::Verdict::close;
  }

  bool mid_request() const noexcept override { return pending_size_ != 0; }
  void request_timed_out(std::string_view problem, serve::Output& out) override {
    message(BlockStatus::malformed, std::string(problem), out);
  }

  std::size_t requests() const noexcept override { return requests_; }

 private:
  serve::Verdict answer(serve::Output& out) {
    ++requests_;
    auto request = decode_block_request(pending_);
    if (!request) return message(BlockStatus::malformed, "malformed request: bad magic (expected CASCADE1)", out);
    serve::FileRange block;
    switch (provider_.locate_block(request->cascade_hash, request->index, block)) {
      case BlockStatus::ok:
        out.append(encode_block_header(BlockStatus::ok, block.length));
        out.append(std::move(block));
        return serve::Verdict::keep_going;
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
    // The model logs a complaint after the peer's address: "127.0.0.1:5000: block request: ...".
    if (status != BlockStatus::missing) complaints().push_back(fmt::format("block request: {}", text));
    out.append(encode_block_header(status, text.size()));
    out.append(text);
    return status == BlockStatus::missing ? serve::Verdict::keep_going : serve::Verdict::close;
  }

  const BlockProvider& provider_;
  std::array<std::byte, kBlockRequestSize> pending_{};  // the request so far
  std::size_t pending_size_ = 0;
  std::size_t requests_ = 0;
};

}  // namespace

std::unique_ptr<serve::Session> BlockService::new_session(const serve::SessionContext&) const {
  return std::make_unique<BlockSession>(*provider_);
}

}  // namespace sockit::cascade
