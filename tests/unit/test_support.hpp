#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace sockit::testing {

inline std::span<const std::byte> bytes_of(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

inline std::string text_of(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// What `fd` gives until EOF or an error, with "<timeout>" appended if that takes over `limit`.
std::string read_until_eof(int fd, std::chrono::milliseconds limit);

/// Descriptors this process has open now (/proc/self/fd).
int open_fd_count();
/// open_fd_count() once it has not changed for 100 ms (at most 5 s): background threads that
/// are still starting (a BackgroundServer's reactors opening their epolls) have done so.
int settled_fd_count();

/// A temporary directory, removed with what it holds at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace sockit::testing
