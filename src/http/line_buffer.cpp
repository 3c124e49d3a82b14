#include "http/line_buffer.hpp"

#include <algorithm>

namespace sockit::http {

LineBuffer::Taken LineBuffer::take(std::string_view in, std::size_t max_raw) {
  if (complete_) clear();
  if (in.empty()) return {0, State::partial};
  if (max_raw <= line_.size()) return {0, State::too_long};  // not even the LF fits
  // Bytes that may still come before the LF, and one more: if that one is not the LF either,
  // the line is too long.
  const std::size_t room = max_raw - 1 - line_.size();
  const auto look = std::min(in.size(), room + 1);
  const auto lf = in.substr(0, look).find('\n');
  if (lf == std::string_view::npos) {
    if (look == room + 1) return {look, State::too_long};
    line_.append(in);
    return {in.size(), State::partial};
  }
  line_.append(in.substr(0, lf));
  raw_size_ = line_.size() + 1;
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  complete_ = true;
  return {lf + 1, State::complete};
}

void LineBuffer::clear() noexcept {
  line_.clear();
  raw_size_ = 0;
  complete_ = false;
}

}  // namespace sockit::http
