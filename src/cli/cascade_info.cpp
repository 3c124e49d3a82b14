#include <fcntl.h>
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cascade/cascade_file.hpp"
#include "cascade/hashing.hpp"
#include "cascade/regular_file.hpp"
#include "cli/cascade_commands.hpp"
#include "net/text.hpp"

namespace sockit::cli::cascade_commands {
namespace {

struct InfoOptions {
  std::string cascade_file;
  std::string data;
  bool json = false;
};

// The block numbers in `which`, for JSON.
nlohmann::json numbers(const std::vector<bool>& have, bool which) {
  auto list = nlohmann::json::array();
  for (std::size_t i = 0; i < have.size(); ++i)
    if (have[i] == which) list.push_back(i);
  return list;
}

// "0-4,7,9-12": the block numbers in `which`, as ranges.
std::string ranges(const std::vector<bool>& have, bool which) {
  std::string text;
  for (std::size_t i = 0; i < have.size();) {
    if (have[i] != which) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j + 1 < have.size() && have[j + 1] == which) ++j;
    text += fmt::format("{}{}", text.empty() ? "" : ",", i == j ? fmt::format("{}", i) : fmt::format("{}-{}", i, j));
    i = j + 1;
  }
  return text.empty() ? "none" : text;
}

int run_info(const InfoOptions& o) {
  const auto file = cascade::load_cascade(o.cascade_file).value();
  const auto count = file.block_count();
  nlohmann::json report = {{"cascade_file", o.cascade_file},
                           {"target_size", file.target_size},
                           {"block_size", file.block_size},
                           {"blocks", count},
                           {"trail_block_size", count ? file.block_length(count - 1) : 0},
                           {"target_hash", cascade::to_hex(file.target_hash)},
                           {"cascade_hash", cascade::to_hex(file.cascade_hash)}};
  if (!o.json) {
    fmt::print("cascade file   {}\n", o.cascade_file);
    fmt::print("target size    {}\n", net::counted(file.target_size, "byte"));
    fmt::print("block size     {}\n", net::counted(file.block_size, "byte"));
    fmt::print("blocks         {} (last one {})\n", count,
               net::counted(count ? file.block_length(count - 1) : 0, "byte"));
    fmt::print("target hash    {}\n", cascade::to_hex(file.target_hash));
    fmt::print("cascade hash   {}\n", cascade::to_hex(file.cascade_hash));
  }
  int status = 0;
  if (!o.data.empty()) {
    const auto data = cascade::open_regular(o.data, O_RDONLY).value();
    const auto have = cascade::valid_blocks(data.fd.get(), o.data, file).value();
    const auto valid = static_cast<std::uint64_t>(std::count(have.begin(), have.end(), true));
    // Every block valid is not the file: bytes past the target make it another file.
    const auto size = static_cast<std::uint64_t>(data.info.st_size);
    const auto extra = size > file.target_size ? size - file.target_size : 0;
    report["data"] = {{"path", o.data},
                      {"size", size},
                      {"valid_blocks", valid},
                      {"missing", numbers(have, false)},
                      {"extra_bytes", extra}};
    if (!o.json) {
      fmt::print("data           {}: {} of {} valid\n", o.data, valid, net::counted(count, "block"));
      fmt::print("missing        {}\n", ranges(have, false));
      if (extra > 0)
        fmt::print("longer         by {} than the target size ({} in all)\n", net::counted(extra, "byte"),
                   net::counted(size, "byte"));
    }
    status = valid == count && extra == 0 ? 0 : 1;
  }
  // A path need not be UTF-8: JSON shows what is not as U+FFFD rather than failing.
  if (o.json) fmt::print("{}\n", report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  return status;
}

}  // namespace

Command add_info(CLI::App& parent) {
  auto o = std::make_shared<InfoOptions>();
  auto* cmd = parent.add_subcommand("info", "Show a cascade file's sizes and hashes, and which blocks a data file holds");
  cmd->add_option("cascade", o->cascade_file, "the .cascade file")->required()->check(checks::non_empty());
  cmd->add_option("--data", o->data, "check this data file's blocks (exit 1 unless all are valid and it is no longer)")
      ->check(checks::non_empty());
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->footer("Example:\n  sockit cascade info movie.mp4.cascade --data movie.mp4");
  return {cmd, [o] { return run_info(*o); }};
}

}  // namespace sockit::cli::cascade_commands
