#include "cascade/cascade_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>

#include "cascade/regular_file.hpp"
#include "net/byte_order.hpp"
#include "net/io.hpp"
#include "net/text.hpp"

namespace sockit::cascade {
namespace {

net::Error format_error(std::string_view name, std::string detail) {
  return net::Error("parse cascade file", net::Errc::protocol, std::string(name), std::move(detail));
}

}  // namespace

std::uint64_t CascadeFile::block_count() const noexcept {
  if (block_size == 0) return 0;
  return target_size / block_size + (target_size % block_size != 0 ? 1 : 0);
}

std::uint64_t CascadeFile::block_length(std::uint64_t index) const noexcept {
  const auto begin = block_offset(index);
  if (begin >= target_size) return 0;
  return std::min(block_size, target_size - begin);
}

std::vector<std::byte> CascadeFile::serialize() const {
  std::vector<std::byte> bytes(kHeaderSize + 32 * block_hashes.size());
  for (std::size_t i = 0; i < kMagic.size(); ++i) bytes[i] = static_cast<std::byte>(kMagic[i]);
  net::store_u64(bytes.data() + 16, target_size);
  net::store_u64(bytes.data() + 24, block_size);
  std::copy(target_hash.begin(), target_hash.end(), bytes.begin() + 32);
  for (std::size_t i = 0; i < block_hashes.size(); ++i)
    std::copy(block_hashes[i].begin(), block_hashes[i].end(), bytes.begin() + static_cast<std::ptrdiff_t>(kHeaderSize + 32 * i));
  return bytes;
}

net::Result<CascadeFile> parse_cascade(std::span<const std::byte> bytes, std::string_view name) {
  if (bytes.size() < CascadeFile::kHeaderSize)
    return format_error(name, fmt::format("truncated header: {} of {} bytes", bytes.size(), CascadeFile::kHeaderSize));
  if (net::as_text(bytes.first(8)) != CascadeFile::kMagic)
    return format_error(name, "bad magic: not a CASCADE1 file");
  CascadeFile file;
  file.target_size = net::load_u64(bytes.data() + 16);
  file.block_size = net::load_u64(bytes.data() + 24);
  if (file.block_size == 0) return format_error(name, "block size is 0");
  std::copy_n(bytes.begin() + 32, 32, file.target_hash.begin());
  const auto count = file.block_count();
  const auto available = (bytes.size() - CascadeFile::kHeaderSize) / 32;
  if (available < count)
    return format_error(name, fmt::format("{} for {} ({} in blocks of {})",
                                          net::counted(available, "block hash", "block hashes"),
                                          net::counted(count, "block"), net::counted(file.target_size, "byte"),
                                          file.block_size));
  file.block_hashes.resize(count);
  for (std::uint64_t i = 0; i < count; ++i)
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(CascadeFile::kHeaderSize + 32 * i), 32,
                file.block_hashes[i].begin());
  file.cascade_hash = sha256(bytes);
  return file;
}

net::Result<CascadeFile> load_cascade(const std::string& path) {
  // A cascade file holds 32 bytes per block: even 1 TiB in 1 KiB blocks is 32 GiB, so refuse
  // anything that cannot be a sane hash list before reading it into memory.
  auto bytes = read_regular_file(path, std::uint64_t{1} << 32);
  if (!bytes) return bytes.error();
  return parse_cascade(*bytes, path);
}

net::Result<void> save_cascade(CascadeFile& file, const std::string& path, std::span<const FileId> inputs) {
  const auto bytes = file.serialize();
  auto opened = open_regular(path, O_WRONLY | O_CREAT);
  if (!opened) return opened.error();
  // Checked on the descriptor before a byte changes: a hard link or symlink to the data file
  // is the data file.
  if (std::find(inputs.begin(), inputs.end(), file_id(opened->info)) != inputs.end())
    return net::Error("write cascade file", net::Errc::file_in_use, path, "it is the data file it describes");
  NewFile created = opened->created ? NewFile(path, file_id(opened->info)) : NewFile();
  if (::ftruncate(opened->fd.get(), 0) < 0) return net::errno_error("ftruncate", path);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(opened->fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return net::errno_error("write", path);
    done += static_cast<std::size_t>(n);
  }
  created.keep();
  file.cascade_hash = sha256(bytes);
  return {};
}

std::string default_data_path(std::string_view cascade_path) {
  constexpr std::string_view suffix = ".cascade";
  if (cascade_path.size() > suffix.size() && cascade_path.ends_with(suffix))
    cascade_path.remove_suffix(suffix.size());
  return std::string(cascade_path);
}

}  // namespace sockit::cascade
