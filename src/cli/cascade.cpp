#include <vector>

#include "cli/cascade_commands.hpp"

namespace sockit::cli {

Command add_cascade(CLI::App& app) {
  auto* cmd = app.add_subcommand("cascade", "Cascade peer-to-peer file sharing: cascade files, tracker, peer");
  cmd->require_subcommand(1);
  auto children = std::make_shared<std::vector<Command>>(std::vector<Command>{
      cascade_commands::add_create(*cmd),
      cascade_commands::add_info(*cmd),
      cascade_commands::add_tracker(*cmd),
      cascade_commands::add_peer(*cmd),
  });
  cmd->footer(
      "Example:\n  sockit cascade create big.iso --block-size 1MiB\n"
      "  sockit cascade tracker --listen 127.0.0.1:8000 --allow-dir .\n"
      "  sockit cascade peer big.iso.cascade --tracker 127.0.0.1:8000 --listen 127.0.0.1:0 -o copy.iso");
  return {cmd, [children] {
            for (const auto& child : *children)
              if (child.parser->parsed()) return child.run();
            return 2;
          }};
}

}  // namespace sockit::cli
