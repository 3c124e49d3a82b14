#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "net/error.hpp"

#ifndef SOCKIT_VERSION
#define SOCKIT_VERSION "unknown"
#endif

namespace {

// CLI11 says only "A subcommand is required" for `sockit bogus` (and `sockit cascade bogus`):
// find the word where a subcommand was due and name it.
std::optional<std::string> unknown_subcommand(CLI::App& app, int argc, char** argv) {
  CLI::App* level = &app;
  std::string path = "sockit";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.starts_with("-")) return std::nullopt;  // an option: CLI11's message is the right one
    auto found = level->get_subcommands([&word](const CLI::App* sub) { return sub->check_name(word); });
    if (found.empty()) {
      // A level that may run without a subcommand (bench: a workload, or `bench merge`) takes
      // other words as its arguments: CLI11's message about them is the right one.
      if (level->get_require_subcommand_min() == 0) return std::nullopt;
      std::string names;
      for (const auto* sub : level->get_subcommands([](const CLI::App*) { return true; }))
        names += (names.empty() ? "" : ", ") + sub->get_name();
      return fmt::format("{}: unknown subcommand '{}' (one of: {})", path, word, names);
    }
    level = found.front();
    path += " " + level->get_name();
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sockit: socket services, server designs and debugging tools"};
  app.set_version_flag("--version", "sockit " SOCKIT_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'sockit SUBCOMMAND --help' for a subcommand's options and an example.");

  const std::vector<sockit::cli::Command> commands = {
      sockit::cli::add_serve(app),   sockit::cli::add_client(app),  sockit::cli::add_nc(app),
      sockit::cli::add_scan(app),    sockit::cli::add_sockets(app), sockit::cli::add_lookup(app),
      sockit::cli::add_endian(app),  sockit::cli::add_bench(app),   sockit::cli::add_cascade(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() != 0)
      if (auto unknown = unknown_subcommand(app, argc, argv)) {
        fmt::print(stderr, "{}\nRun with --help for more information.\n", *unknown);
        return 2;
      }
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    for (const auto& command : commands)
      if (command.parser->parsed()) return command.run();
  } catch (const sockit::net::Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "sockit: {}\n", e.what());
    // Text that is no address (a malformed HOST:PORT, a port list) is the user's to fix.
    return e.code() == sockit::net::Errc::bad_address ? 2 : 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "sockit: {}\n", e.what());
    return 1;
  }
  return 2;
}
