#pragma once

#include <cstddef>

namespace sockit::tools {

/// Raises this process's soft limit on open descriptors (RLIMIT_NOFILE) to its hard limit and
/// returns the soft limit then in force: how many descriptors the process may hold at once.
/// Tools that keep a socket per probe or per connection (scan, bench) size themselves by it.
std::size_t raise_descriptor_limit();

}  // namespace sockit::tools
