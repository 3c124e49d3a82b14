#include "cascade/downloader_window.hpp"

#include <algorithm>
#include <cmath>

namespace sockit::cascade {

RequestWindow::RequestWindow(std::uint64_t block_size, std::size_t max)
    : block_size_(std::max<std::uint64_t>(block_size, 1)), max_(std::max(max, kMin)), depth_(kMin) {}

void RequestWindow::update(Clock::time_point now) {
  if (!sampled_) {
    sampled_ = true;
    last_ = now;
    return;
  }
  const std::chrono::duration<double> elapsed = now - last_;
  if (elapsed < kSample) return;
  const double sample = static_cast<double>(bytes_) / elapsed.count();
  rate_ = rate_ == 0 ? sample : 0.5 * rate_ + 0.5 * sample;
  bytes_ = 0;
  last_ = now;
  const double ahead = rate_ * std::chrono::duration<double>(kAhead).count() / static_cast<double>(block_size_);
  depth_ = std::clamp<std::size_t>(static_cast<std::size_t>(std::ceil(ahead)) + 1, kMin, max_);
}

}  // namespace sockit::cascade
