#pragma once

#include <stdexcept>

namespace sockit::cli {

/// The command line asks for what cannot be done: the subcommand exits 2 with this message. An
/// std::invalid_argument, as the parsers the subcommands share throw (make_exchange, decode_escapes).
struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

}  // namespace sockit::cli
