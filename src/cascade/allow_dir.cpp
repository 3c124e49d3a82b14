#include "cascade/allow_dir.hpp"

#include <filesystem>
#include <system_error>

#include "cascade/cascade_file.hpp"

namespace sockit::cascade {
namespace {

net::Error directory_error(const std::string& dir, const std::error_code& error) {
  return net::Error("read directory", error, dir);
}

}  // namespace

net::Result<AllowDir> scan_allow_dir(const std::string& dir) {
  AllowDir found;
  std::error_code error;
  // The error_code forms: a directory that vanishes or cannot be read is an Error naming it,
  // not a std::filesystem exception.
  std::filesystem::directory_iterator entries(dir, error);
  if (error) return directory_error(dir, error);
  for (; entries != std::filesystem::directory_iterator(); entries.increment(error)) {
    if (error) return directory_error(dir, error);
    const auto& path = entries->path();
    if (path.extension() != ".cascade") continue;
    // load_cascade opens without blocking and reads only regular files.
    auto file = load_cascade(path.string());
    if (!file) found.skipped.push_back(file.error().what());
    else found.tracked.push_back({path.string(), file->cascade_hash});
  }
  if (error) return directory_error(dir, error);
  return found;
}

}  // namespace sockit::cascade
