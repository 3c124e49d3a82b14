#pragma once

#include "cli/command.hpp"

namespace sockit::cli {

/// `sockit bench merge FILE...`, a subcommand of `bench`.
Command add_bench_merge(CLI::App& bench);

}  // namespace sockit::cli
