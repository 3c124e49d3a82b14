#include "cascade/peer_files.hpp"

#include <fmt/core.h>

#include <optional>

#include "cascade/regular_file.hpp"

namespace sockit::cascade {
namespace {

// What a path names now: the file when it exists, else its normalised path.
struct Named {
  std::string path;
  std::optional<struct stat> info;
  std::string normal;  // only when nothing is there

  bool same(const Named& other) const {
    if (info) return other.info && file_id(*info) == file_id(*other.info);
    return !other.info && normal == other.normal;
  }
};

net::Result<Named> name(const std::string& path) {
  auto there = stat_path(path);
  if (!there) return there.error();
  Named named{path, *there, {}};
  if (!named.info) named.normal = normal_path(path);
  return named;
}

net::Error clash(std::string_view call, const std::string& path, std::string detail) {
  return net::Error(std::string(call), net::Errc::file_in_use, path, std::move(detail));
}

}  // namespace

net::Result<void> check_peer_files(const std::vector<PeerFile>& files, const std::vector<std::string>& reports) {
  std::vector<Named> cascades;
  for (const auto& f : files) {
    auto named = name(f.cascade_path);
    if (!named) return named.error();
    cascades.push_back(std::move(*named));
  }
  std::vector<Named> outputs;
  for (const auto& f : files) {
    auto named = name(f.data_path);
    if (!named) return named.error();
    if (named->info)
      if (auto regular = require_regular(*named->info, "check data file", f.data_path); !regular)
        return regular.error();
    for (const auto& cascade : cascades)
      if (named->same(cascade))
        return clash("check data file", f.data_path,
                     fmt::format("it is the cascade file {}: give the data file with -o", cascade.path));
    for (std::size_t i = 0; i < outputs.size(); ++i)
      if (named->same(outputs[i]))
        return clash("check data file", f.data_path,
                     fmt::format("it is also the data file of {}", files[i].cascade_path));
    outputs.push_back(std::move(*named));
  }
  for (const auto& report : reports) {
    auto named = name(report);
    if (!named) return named.error();
    for (const auto& cascade : cascades)
      if (named->same(cascade))
        return clash("check report file", report, fmt::format("it is the cascade file {}", cascade.path));
    for (std::size_t i = 0; i < outputs.size(); ++i)
      if (named->same(outputs[i]))
        return clash("check report file", report, fmt::format("it is the data file of {}", files[i].cascade_path));
  }
  return {};
}

}  // namespace sockit::cascade
