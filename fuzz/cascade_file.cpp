// The .cascade reader (cascade-protocol.md §1) on any bytes, both ways in: parse_cascade() on
// the bytes and load_cascade() on a file holding them. What either accepts has a hash per block,
// blocks that add up to the target size, and serializes back to bytes that parse the same.
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "cascade/cascade_file.hpp"
#include "net/fd.hpp"
#include "support/check.hpp"

using namespace sockit;

namespace {

void check_same(const cascade::CascadeFile& a, const cascade::CascadeFile& b, const char* what) {
  fuzz::require(a.target_size == b.target_size && a.block_size == b.block_size && a.target_hash == b.target_hash &&
                    a.block_hashes == b.block_hashes,
                what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = fuzz::bytes_of(data, size);
  const auto parsed = cascade::parse_cascade(bytes);

  // The same bytes through the file reader (a memfd named by /proc/self/fd).
  static const net::Fd file(::memfd_create("cascade-fuzz", MFD_CLOEXEC));
  fuzz::require(file.valid() && ::ftruncate(file.get(), 0) == 0, "memfd failed");
  fuzz::require(::pwrite(file.get(), data, size, 0) == static_cast<ssize_t>(size), "pwrite failed");
  const auto loaded = cascade::load_cascade("/proc/self/fd/" + std::to_string(file.get()));
  fuzz::require(parsed.has_value() == loaded.has_value(), "load_cascade and parse_cascade disagree");
  if (!parsed) return 0;
  check_same(*parsed, *loaded, "load_cascade read another file than parse_cascade");
  fuzz::require(parsed->cascade_hash == loaded->cascade_hash, "the cascade hash depends on the reader");

  const auto& f = *parsed;
  fuzz::require(f.block_size > 0, "a file with block size 0 was accepted");
  fuzz::require(f.block_hashes.size() == f.block_count(), "not one hash per block");
  fuzz::require(size >= cascade::CascadeFile::kHeaderSize + 32 * f.block_hashes.size(), "hashes made up");
  std::uint64_t total = 0;
  for (std::uint64_t i = 0; i < f.block_count(); ++i) {
    const auto length = f.block_length(i);
    fuzz::require(length > 0 && length <= f.block_size, "a block of no or too many bytes");
    fuzz::require(f.block_offset(i) == total, "blocks that do not follow each other");
    total += length;
  }
  fuzz::require(total == f.target_size, "the blocks do not add up to the target size");
  // (Past the end, index * block_size may wrap around; callers check the index against block_count().)
  if (f.block_count() <= UINT64_MAX / f.block_size)
    fuzz::require(f.block_length(f.block_count()) == 0, "a block past the end");

  const auto again = cascade::parse_cascade(f.serialize());
  fuzz::require(again.has_value(), "a serialized cascade file does not parse");
  check_same(f, *again, "a serialized cascade file parses differently");
  return 0;
}
