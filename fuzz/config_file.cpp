// parse_config and resolve on any text, as an operator's file (sockit serve --config): settings
// or mistakes, never a crash or a hang. Every mistake names the file and a line and column (or
// the file alone), and has a message; what resolves is a configuration check() finds no fault in.
#include <string>

#include "serve/config_file.hpp"
#include "serve/settings.hpp"
#include "support/check.hpp"

using namespace sockit;

namespace {

void require_placed(const serve::SettingErrors& e) {
  fuzz::require(!e.errors.empty(), "SettingErrors without an error");
  fuzz::require(*e.what() != 0, "SettingErrors without a message");
  for (const auto& error : e.errors) {
    const auto text = error.text();
    fuzz::require(!error.message.empty(), "an error without a message: ", text);
    fuzz::require(error.spot.where.starts_with("fuzz.toml"), "an error not placed in the file: ", text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  serve::Settings settings;
  try {
    settings = serve::parse_config(text, "fuzz.toml", "/nonexistent/sockit-fuzz");
  } catch (const serve::SettingErrors& e) {
    require_placed(e);
    return 0;
  }
  for (const auto& s : settings.services) fuzz::require(!s.name.empty(), "a service without a name");
  try {
    const auto resolved = serve::resolve(settings, {});
    fuzz::require(!resolved.config.services.empty(), "resolved to no service");
    fuzz::require(serve::check(resolved.config).empty(), "resolved to a configuration check() faults");
  } catch (const serve::SettingErrors& e) {
    require_placed(e);
  }
  return 0;
}
