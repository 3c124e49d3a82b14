#include "net/reader.hpp"

#include <algorithm>
#include <cstring>

namespace sockit::net {

Reader::Reader(int fd, std::size_t buffer_size) : fd_(fd), buffer_(std::max<std::size_t>(buffer_size, 1)) {}

Result<std::size_t> Reader::fill(Deadline deadline) {
  if (begin_ == end_) begin_ = end_ = 0;
  if (end_ == buffer_.size() && begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  auto n = recv_some(fd_, MutableBytes(buffer_).subspan(end_), deadline);
  if (!n) return n;
  end_ += *n;
  return n;
}

std::size_t Reader::take(MutableBytes out) noexcept {
  std::size_t n = std::min(out.size(), buffered());
  std::memcpy(out.data(), buffer_.data() + begin_, n);
  begin_ += n;
  return n;
}

Result<std::optional<std::string>> Reader::read_line(std::size_t max, LineEnd ends, Deadline deadline) {
  std::string line;
  for (;;) {
    const auto* first = buffer_.data() + begin_;
    const auto* last = buffer_.data() + end_;
    const auto* stop = std::find_if(first, last, [ends](std::byte b) {
      return b == std::byte{'\n'} || (ends == LineEnd::newline_or_nul && b == std::byte{0});
    });
    const auto length = static_cast<std::size_t>(stop - first);
    if (line.size() + length > max) {
      begin_ = end_;
      return Error("read_line", Errc::line_too_long, peer_text(fd_),
                   "max " + std::to_string(max) + " bytes");
    }
    line.append(reinterpret_cast<const char*>(first), length);
    begin_ += length;
    if (stop != last) {
      ++begin_;  // the terminator
      return std::optional<std::string>(std::move(line));
    }
    auto n = fill(deadline);
    if (!n) return n.error();
    if (*n == 0) {
      if (line.empty()) return std::optional<std::string>();
      return std::optional<std::string>(std::move(line));
    }
  }
}

Result<void> Reader::read_exact(MutableBytes buffer, Deadline deadline) {
  std::size_t got = take(buffer);
  while (got < buffer.size()) {
    // Large reads go straight into the caller's buffer; small ones through ours.
    const bool direct = buffer.size() - got >= buffer_.size();
    auto n = direct ? recv_some(fd_, buffer.subspan(got), deadline) : fill(deadline);
    if (!n) return n.error();
    if (*n == 0)
      return Error("read_exact", Errc::unexpected_eof, peer_text(fd_),
                   std::to_string(got) + " of " + std::to_string(buffer.size()) + " bytes arrived");
    got += direct ? *n : take(buffer.subspan(got));
  }
  return {};
}

Result<std::size_t> Reader::read_some(MutableBytes buffer, Deadline deadline) {
  if (buffered() == 0) {
    if (buffer.size() >= buffer_.size()) return recv_some(fd_, buffer, deadline);
    auto n = fill(deadline);
    if (!n) return n;
  }
  return take(buffer);
}

}  // namespace sockit::net
