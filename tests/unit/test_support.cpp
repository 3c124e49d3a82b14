#include "test_support.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>

namespace sockit::testing {

std::string read_until_eof(int fd, std::chrono::milliseconds limit) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + limit;
  std::string out;
  char buffer[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd ready{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&ready, 1, static_cast<int>(left)) == 0) return out + "<timeout>";
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return out;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

int open_fd_count() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++count;
  return count - 1;  // the iterator's own descriptor
}

int settled_fd_count() {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  int count = open_fd_count();
  auto since = Clock::now();
  while (Clock::now() < deadline && Clock::now() - since < std::chrono::milliseconds(100)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (const int now = open_fd_count(); now != count) {
      count = now;
      since = Clock::now();
    }
  }
  return count;
}

TightDescriptorLimit::TightDescriptorLimit(int spare) {
  ::getrlimit(RLIMIT_NOFILE, &saved_);
  rlimit tight = saved_;
  tight.rlim_cur = static_cast<rlim_t>(open_fd_count() + spare);
  ok_ = ::setrlimit(RLIMIT_NOFILE, &tight) == 0;
}

TightDescriptorLimit::~TightDescriptorLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

std::vector<net::Fd> take_every_descriptor() {
  std::vector<net::Fd> taken;
  for (net::Fd fd(::dup(0)); fd; fd = net::Fd(::dup(0))) taken.push_back(std::move(fd));
  return taken;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "sockit-test-XXXXXX").string();
  if (!::mkdtemp(pattern.data()))
    throw std::filesystem::filesystem_error("mkdtemp", pattern, std::error_code(errno, std::generic_category()));
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;  // a destructor must not throw; a leftover temp dir is harmless
  std::filesystem::remove_all(path_, ignored);
}

namespace {

// Every unit test binary ends by checking that the tests left no descriptor open.
class FdLeakCheck : public ::testing::Environment {
 public:
  void SetUp() override { before_ = open_fd_count(); }
  void TearDown() override { EXPECT_EQ(open_fd_count(), before_) << "descriptors leaked by the tests"; }

 private:
  int before_ = 0;
};

[[maybe_unused]] auto* const registered = ::testing::AddGlobalTestEnvironment(new FdLeakCheck);

}  // namespace
}  // namespace sockit::testing
