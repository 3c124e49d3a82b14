#pragma once

// A private directory for the Unix sockets a target listens on, removed at exit.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/check.hpp"

namespace sockit::fuzz {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sockit-fuzz-XXXXXX").string();
    require(::mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace sockit::fuzz
