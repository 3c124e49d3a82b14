#include "cascade/hashing.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <optional>
#include <thread>

#include "cascade/regular_file.hpp"
#include "net/text.hpp"

namespace sockit::cascade {
namespace {

constexpr std::size_t kPiece = 1 << 20;
// Below this, starting threads costs more than it saves.
constexpr std::uint64_t kParallelFrom = 8 << 20;

// Reads [offset, offset+length) into the hash in pieces; false when the file ends first.
net::Result<bool> hash_range(int fd, const std::string& path, std::uint64_t offset, std::uint64_t length,
                             Sha256& hash, std::vector<std::byte>& buffer) {
  while (length > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length, buffer.size()));
    const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return net::errno_error("pread", path);
    if (n == 0) return false;
    hash.update(std::span(buffer.data(), static_cast<std::size_t>(n)));
    offset += static_cast<std::uint64_t>(n);
    length -= static_cast<std::uint64_t>(n);
  }
  return true;
}

unsigned thread_count(unsigned requested, std::uint64_t size) {
  if (size < kParallelFrom) return 1;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return requested == 0 ? cores : requested;
}

// Calls `each(index, digest-or-nullopt)` for every block, from `threads` threads; nullopt when
// the file ends inside the block. The first I/O error stops everyone and is returned.
template <typename Each>
net::Result<void> hash_blocks(int fd, const std::string& path, const CascadeFile& layout, unsigned threads,
                              Each each) {
  std::atomic<std::uint64_t> next{0};
  std::mutex mutex;
  std::optional<net::Error> failure;
  auto work = [&] {
    Sha256 hash;
    std::vector<std::byte> buffer(kPiece);
    for (;;) {
      const auto index = next.fetch_add(1);
      if (index >= layout.block_count()) return;
      auto whole = hash_range(fd, path, layout.block_offset(index), layout.block_length(index), hash, buffer);
      if (!whole) {
        std::lock_guard lock(mutex);
        if (!failure) failure = whole.error();
        next = layout.block_count();
        return;
      }
      if (*whole) {
        each(index, std::optional<Digest>(hash.finish()));
      } else {
        hash.finish();
        each(index, std::optional<Digest>());
      }
    }
  };
  std::vector<std::jthread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back(work);
  work();
  pool.clear();
  if (failure) return *failure;
  return {};
}

}  // namespace

net::Result<Digest> hash_file_prefix(int fd, const std::string& path, std::uint64_t size) {
  Sha256 hash;
  std::vector<std::byte> buffer(kPiece);
  auto whole = hash_range(fd, path, 0, size, hash, buffer);
  if (!whole) return whole.error();
  if (!*whole)
    return net::Error("read", net::Errc::file_changed, path,
                      fmt::format("it is shorter than {}", net::counted(size, "byte")));
  return hash.finish();
}

net::Result<CascadeFile> describe_data_file(const std::string& path, std::uint64_t block_size, unsigned threads) {
  if (block_size == 0) return net::Error("describe data file", net::Errc::protocol, path, "block size is 0");
  // Only a regular file has a size to describe: /dev/zero never ends, a FIFO would hang us.
  auto opened = open_regular(path, O_RDONLY);
  if (!opened) return opened.error();
  const int fd = opened->fd.get();
  CascadeFile file;
  file.target_size = static_cast<std::uint64_t>(opened->info.st_size);
  file.block_size = block_size;
  file.block_hashes.resize(file.block_count());
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  const unsigned n = thread_count(threads, file.target_size);
  // The target hash is inherently sequential: one thread walks the file in order while the
  // others hash blocks (both read through the page cache, so the file is read from disk once).
  std::optional<net::Result<Digest>> target;
  std::jthread target_thread;
  if (n > 1) target_thread = std::jthread([&] { target = hash_file_prefix(fd, path, file.target_size); });
  else target = hash_file_prefix(fd, path, file.target_size);

  std::atomic<bool> short_file{false};
  auto blocks = hash_blocks(fd, path, file, std::max(1u, n - 1), [&](std::uint64_t i, std::optional<Digest> d) {
    if (d) file.block_hashes[i] = *d;
    else short_file = true;
  });
  if (target_thread.joinable()) target_thread.join();
  if (!blocks) return blocks.error();
  if (!*target) return (*target).error();
  if (short_file.load()) return net::Error("read", net::Errc::file_changed, path, "it shrank while it was hashed");
  // More bytes than the size said: the file grew, or it is one whose size means nothing (the
  // files of /proc say 0 whatever they hold).
  std::byte past_end{};
  if (::pread(fd, &past_end, 1, static_cast<off_t>(file.target_size)) > 0)
    return net::Error("read", net::Errc::file_changed, path,
                      fmt::format("it holds more than the {} its size says (it grew, or it is a /proc file)",
                                  net::counted(file.target_size, "byte")));
  file.target_hash = **target;
  return file;
}

net::Result<std::vector<bool>> valid_blocks(int fd, const std::string& path, const CascadeFile& file,
                                            unsigned threads) {
  std::vector<char> valid(file.block_count(), 0);
  auto done = hash_blocks(fd, path, file, thread_count(threads, file.target_size),
                          [&](std::uint64_t i, std::optional<Digest> d) {
                            valid[i] = d && *d == file.block_hashes[i];
                          });
  if (!done) return done.error();
  return std::vector<bool>(valid.begin(), valid.end());
}

}  // namespace sockit::cascade
