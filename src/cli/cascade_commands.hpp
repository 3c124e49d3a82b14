#pragma once

#include "cli/stop_on_signals.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cli/command.hpp"
#include "cli/option_checks.hpp"
#include "serve/stop_signal.hpp"

namespace sockit::cli::cascade_commands {

// The subcommands of `sockit cascade`, one file each (cascade_*.cpp).
Command add_create(CLI::App& parent);
Command add_info(CLI::App& parent);
Command add_tracker(CLI::App& parent);
Command add_peer(CLI::App& parent);

/// "1MiB", "64KiB", "1024", "10M": a byte count; nullopt for anything else or 0.
std::optional<std::uint64_t> parse_size(std::string_view text);
/// "1.5 MiB" for messages and the progress bar.
std::string human_bytes(double bytes);

using cli::StopOnSignals;

}  // namespace sockit::cli::cascade_commands
