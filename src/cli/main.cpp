#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <vector>

#include "cli/command.hpp"

#ifndef SOCKIT_VERSION
#define SOCKIT_VERSION "unknown"
#endif

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
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    for (const auto& command : commands)
      if (command.parser->parsed()) return command.run();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "sockit: {}\n", e.what());
    return 1;
  }
  return 2;
}
