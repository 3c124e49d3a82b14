#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace sockit::cli {

/// A subcommand: its parser, and what runs when it was chosen (returns the exit code).
struct Command {
  CLI::App* parser = nullptr;
  std::function<int()> run;
};

// One per file in src/cli/; main.cpp lists them in the order `sockit --help` shows them.
Command add_bench(CLI::App& app);
Command add_cascade(CLI::App& app);
Command add_endian(CLI::App& app);
Command add_lookup(CLI::App& app);
Command add_serve(CLI::App& app);
Command add_client(CLI::App& app);
Command add_nc(CLI::App& app);
Command add_scan(CLI::App& app);
Command add_sockets(CLI::App& app);

}  // namespace sockit::cli
