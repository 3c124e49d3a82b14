#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cascade/cascade_file.hpp"
#include "cascade/hashing.hpp"
#include "cascade/regular_file.hpp"
#include "cli/cascade_commands.hpp"
#include "net/text.hpp"

namespace sockit::cli::cascade_commands {
namespace {

struct CreateOptions {
  std::string data;
  std::string block_size = "1MiB";
  std::string output;
  unsigned threads = 0;
  bool json = false;
};

int run_create(const CreateOptions& o) {
  const auto block_size = parse_size(o.block_size);
  if (!block_size) {
    fmt::print(stderr, "sockit cascade create: bad --block-size '{}' (e.g. 1024, 64KiB, 1MiB)\n", o.block_size);
    return 2;
  }
  const auto output = o.output.empty() ? o.data + ".cascade" : o.output;
  // Refused before minutes of hashing; save_cascade checks again on the file it opens.
  const auto input = cascade::stat_path(o.data).value();
  std::vector<cascade::FileId> inputs;
  if (input) {
    inputs.push_back(cascade::file_id(*input));
    const auto there = cascade::stat_path(output).value();
    if (there && cascade::file_id(*there) == inputs.front()) {
      fmt::print(stderr, "sockit cascade create: refusing to write {}: it is the data file {}{}\n", output, o.data,
                 output == o.data ? "" : " (the same file under another name)");
      return 2;
    }
  }
  auto file = cascade::describe_data_file(o.data, *block_size, o.threads).value();
  cascade::save_cascade(file, output, inputs).value();
  if (o.json) {
    fmt::print("{}\n", nlohmann::json{{"cascade_file", output},
                                      {"data", o.data},
                                      {"target_size", file.target_size},
                                      {"block_size", file.block_size},
                                      {"blocks", file.block_count()},
                                      {"target_hash", cascade::to_hex(file.target_hash)},
                                      {"cascade_hash", cascade::to_hex(file.cascade_hash)}}
                           .dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    fmt::print("wrote {}: {} in {} of {}\n", output, net::counted(file.target_size, "byte"),
               net::counted(file.block_count(), "block"), net::counted(file.block_size, "byte"));
    fmt::print("cascade hash {}\n", cascade::to_hex(file.cascade_hash));
  }
  return 0;
}

}  // namespace

Command add_create(CLI::App& parent) {
  auto o = std::make_shared<CreateOptions>();
  auto* cmd = parent.add_subcommand("create", "Write DATA.cascade (block hashes) and print its cascade hash");
  cmd->add_option("data", o->data, "the data file to describe (a regular file)")->required()->check(checks::non_empty());
  cmd->add_option("--block-size", o->block_size, "block size: bytes, or with KiB/MiB")->capture_default_str();
  cmd->add_option("-o,--output", o->output, "the cascade file to write (default: DATA.cascade; never DATA itself)")
      ->check(checks::non_empty());
  cmd->add_option("--threads", o->threads, "hashing threads (default: one per core)")
      ->transform(checks::whole(0u, 1024u));
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->footer("Example:\n  sockit cascade create movie.mp4 --block-size 1MiB");
  return {cmd, [o] { return run_create(*o); }};
}

}  // namespace sockit::cli::cascade_commands
