#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "serve/settings.hpp"

namespace sockit::serve {

/// The largest config file read: an operator's file is a few kilobytes.
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;

/// A config file's keys, as `sockit serve --help` would name them: for each key of [server] and
/// of a service table, the flag that sets the same thing ("" for none, "SERVICE:PORT" for port).
struct ConfigKey {
  std::string_view name;
  std::string_view flag;
  std::string_view only_for;  ///< the one service it belongs to ("" for every service); server keys: ""
};
const std::vector<ConfigKey>& server_keys();
const std::vector<ConfigKey>& service_keys();

/// Parses `text`, a TOML config file called `name` in messages, into settings: a [server] table,
/// a [defaults] table, and a [services.NAME] table per service (DESIGN.md, docs/config.md).
/// Relative paths in it (root, access_log) are taken from `directory`. Every mistake is found,
/// not only the first: TOML syntax (the parser stops there), an unknown key (with the nearest
/// known one), a value of the wrong type or out of range, a key of another service, a bad
/// address or CIDR. Throws SettingErrors, each naming FILE:LINE:COLUMN and the key. Never
/// crashes or hangs on any input (fuzz/config_file.cpp); time and memory are linear in the size.
Settings parse_config(std::string_view text, std::string_view name, const std::string& directory);

/// Reads the file at `path` (at most kMaxConfigBytes) and parses it. Throws SettingErrors, also
/// when it cannot be read or is too large.
Settings read_config(const std::string& path);

}  // namespace sockit::serve
