#pragma once

#include <string>
#include <vector>

#include "net/result.hpp"

namespace sockit::cascade {

/// One file a peer fetches and shares.
struct PeerFile {
  std::string cascade_path;
  std::string data_path;  ///< created if missing; the verified blocks it already holds are kept
};

/// Refuses, before anything is opened or created, data paths that would destroy or share a
/// file: a data path naming one of the cascade files (the peer would grow it to the target
/// size), two data paths naming one file (the same file when they exist, through links too; the
/// same normalised path when they do not), a data path that exists and is not a regular file.
/// `reports` are further outputs (the --stats file): each must be none of the cascade and data
/// files either. Errors name the output: Errc::file_in_use (the detail says with what it
/// clashes), Errc::not_regular_file, or a failed stat. Blocks on stat().
net::Result<void> check_peer_files(const std::vector<PeerFile>& files,
                                   const std::vector<std::string>& reports = {});

}  // namespace sockit::cascade
