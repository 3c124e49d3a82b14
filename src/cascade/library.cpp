#include "cascade/library.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "cascade/hashing.hpp"
#include "cascade/regular_file.hpp"

namespace sockit::cascade {

SharedFile::SharedFile(CascadeFile description, std::string path, net::Fd data, const std::vector<bool>& have,
                       NewFile created)
    : description_(std::move(description)),
      path_(std::move(path)),
      data_(std::make_shared<const net::Fd>(std::move(data))),
      have_(std::make_unique<std::atomic<bool>[]>(description_.block_count())),
      created_(std::move(created)) {
  std::uint64_t held = 0;
  for (std::uint64_t i = 0; i < description_.block_count(); ++i) {
    const bool h = i < have.size() && have[i];
    have_[i].store(h, std::memory_order_relaxed);
    held += h ? 1 : 0;
  }
  held_ = held;
}

SharedFile::~SharedFile() {
  if (held() > 0 || complete()) created_.keep();
}

net::Result<void> SharedFile::write_block(std::uint64_t index, std::span<const std::byte> bytes) {
  auto offset = static_cast<off_t>(description_.block_offset(index));
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(data_->get(), bytes.data(), bytes.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return net::errno_error("pwrite", path_);
    bytes = bytes.subspan(static_cast<std::size_t>(n));
    offset += n;
  }
  if (!have_[index].exchange(true, std::memory_order_acq_rel)) held_.fetch_add(1, std::memory_order_relaxed);
  return {};
}

std::optional<serve::FileRange> SharedFile::block_range(std::uint64_t index) const {
  if (index >= description_.block_count() || !has(index)) return std::nullopt;
  return serve::FileRange{data_, description_.block_offset(index), description_.block_length(index)};
}

net::Result<std::shared_ptr<SharedFile>> open_shared_file(CascadeFile description, const std::string& path,
                                                          unsigned threads) {
  auto opened = open_regular(path, O_RDWR | O_CREAT);
  // A seed may share a file it cannot write (read-only mount, someone else's file): fine as
  // long as it is complete, since nothing will be written; write_block() reports it otherwise.
  if (!opened && (opened.error().code() == std::errc::permission_denied ||
                  opened.error().code() == std::errc::read_only_file_system))
    opened = open_regular(path, O_RDONLY);
  if (!opened) return opened.error();
  // Removed again if anything below fails: a failed start leaves no empty file behind.
  NewFile created = opened->created ? NewFile(path, file_id(opened->info)) : NewFile();
  const int fd = opened->fd.get();
  const bool was_empty = opened->info.st_size == 0;
  const auto size = static_cast<std::uint64_t>(opened->info.st_size);
  // Exactly the target size: a leecher's output must end up byte-exact. A read-only seed with
  // trailing bytes keeps them (they are never served).
  if (size != description.target_size && ::ftruncate(fd, static_cast<off_t>(description.target_size)) < 0 &&
      size < description.target_size)
    return net::errno_error("ftruncate", path);
  std::vector<bool> have(description.block_count(), false);
  if (!was_empty || description.target_size == 0) {
    auto valid = valid_blocks(fd, path, description, threads);
    if (!valid) return valid.error();
    have = std::move(*valid);
  }
  return std::make_shared<SharedFile>(std::move(description), path, std::move(opened->fd), have, std::move(created));
}

void Library::add(std::shared_ptr<SharedFile> file) {
  const auto hash = file->description().cascade_hash;
  files_[hash] = std::move(file);
}

BlockStatus Library::locate_block(const Digest& cascade_hash, std::uint64_t index, serve::FileRange& out) const {
  auto found = files_.find(cascade_hash);
  if (found == files_.end()) return BlockStatus::unknown_file;
  if (index >= found->second->description().block_count()) return BlockStatus::past_end;
  auto range = found->second->block_range(index);
  if (!range) return BlockStatus::missing;
  found->second->note_served(range->length);
  out = std::move(*range);
  return BlockStatus::ok;
}

}  // namespace sockit::cascade
