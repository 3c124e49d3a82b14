#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/fd.hpp"

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

/// Calls `done` every 10 ms until it holds or `limit` passes; its last answer.
template <typename Condition>
bool eventually(Condition done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  for (const auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(std::chrono::milliseconds(10)))
    if (done()) return true;
  return done();
}

/// Lowers RLIMIT_NOFILE to what is open now and `spare` more, for the scope's duration.
class TightDescriptorLimit {
 public:
  explicit TightDescriptorLimit(int spare);
  ~TightDescriptorLimit();
  TightDescriptorLimit(const TightDescriptorLimit&) = delete;
  TightDescriptorLimit& operator=(const TightDescriptorLimit&) = delete;
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

/// Opens descriptors (dup(0)) until the process has none left; closing them gives them back.
std::vector<net::Fd> take_every_descriptor();

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
