// sockit cascade peer: flags into a cascade::PeerConfig; the progress bar, the JSON report and
// the messages around the Peer's download and seeding.
#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "cascade/cascade_file.hpp"
#include "cascade/peer.hpp"
#include "cascade/peer_status.hpp"
#include "cascade/regular_file.hpp"
#include "cli/admin_flags.hpp"
#include "cli/cascade_commands.hpp"
#include "net/address.hpp"
#include "net/text.hpp"
#include "serve/log.hpp"
#include "serve/metrics.hpp"

namespace sockit::cli::cascade_commands {
namespace {

struct PeerOptions {
  std::vector<std::string> cascade_files;
  std::string tracker;
  std::string listen;
  std::vector<std::string> outputs;
  bool no_seed = false;
  std::size_t max_peers = 32;
  double list_interval = 30;
  double resubscribe_interval = 600;
  double stall_timeout = 10;
  std::string stats;
  bool verbose = false;
  AdminFlags admin;
};

std::chrono::milliseconds seconds(double s) { return std::chrono::milliseconds(static_cast<long>(s * 1000)); }

// The --stats report: a regular file opened before the download, so that a path that cannot
// be written fails at once, and written at the end. A file created for it and never written
// (the download failed) is removed again.
class StatsFile {
 public:
  static net::Result<StatsFile> open(const std::string& path) {
    auto opened = cascade::open_regular(path, O_WRONLY | O_CREAT);
    if (!opened) return opened.error();
    return StatsFile(path, std::move(*opened));
  }

  net::Result<void> write(const std::string& text) {
    if (::ftruncate(file_.fd.get(), 0) < 0) return net::errno_error("ftruncate", path_);
    for (std::size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(file_.fd.get(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return net::errno_error("write", path_);
      done += static_cast<std::size_t>(n);
    }
    created_.keep();
    return {};
  }

 private:
  StatsFile(std::string path, cascade::OpenedFile file)
      : path_(std::move(path)),
        file_(std::move(file)),
        created_(file_.created ? cascade::NewFile(path_, cascade::file_id(file_.info)) : cascade::NewFile()) {}

  std::string path_;
  cascade::OpenedFile file_;
  cascade::NewFile created_;
};

// The progress bar: blocks, bytes/s, peers, ETA, redrawn in place on a terminal.
void draw(const cascade::Progress& p) {
  const double fraction = p.blocks_total ? static_cast<double>(p.blocks_held) / static_cast<double>(p.blocks_total) : 1;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  const double left = static_cast<double>(p.bytes_total - std::min(p.bytes_total, p.bytes_held));
  const std::string eta = p.bytes_per_second > 1 ? fmt::format("{:.0f}s", left / p.bytes_per_second) : "--";
  fmt::print(stderr, "\r[{}{}] {}/{}  {}/s  {}  ETA {}   ", std::string(filled, '#'), std::string(kWidth - filled, '.'),
             p.blocks_held, net::counted(p.blocks_total, "block"), human_bytes(p.bytes_per_second),
             net::counted(p.peers, "peer"), eta);
  std::fflush(stderr);
}

nlohmann::json to_json(const std::vector<cascade::FileReport>& reports) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& r : reports) {
    nlohmann::json from = nlohmann::json::object();
    for (const auto& [peer, count] : r.blocks_from) from[peer.to_string()] = count;
    nlohmann::json dropped = nlohmann::json::array();
    for (const auto& peer : r.dropped) dropped.push_back(peer.to_string());
    files.push_back({{"path", r.path},
                     {"blocks", r.blocks},
                     {"resumed", r.resumed},
                     {"fetched", r.fetched},
                     {"duplicates", r.duplicates},
                     {"bad_blocks", r.bad_blocks},
                     {"blocks_from", from},
                     {"dropped", dropped},
                     {"complete", r.complete},
                     {"target_verified", r.target_verified}});
  }
  return {{"files", files}};
}

cascade::PeerConfig configure(const PeerOptions& o, serve::Log& log) {
  cascade::PeerConfig config;
  for (std::size_t i = 0; i < o.cascade_files.size(); ++i)
    config.files.push_back({o.cascade_files[i],
                            o.outputs.empty() ? cascade::default_data_path(o.cascade_files[i]) : o.outputs[i]});
  config.download.tracker = net::Address::parse(o.tracker).value();
  config.listen = net::Address::parse(o.listen).value();
  config.download.max_peers = o.max_peers;
  config.download.list_interval = seconds(o.list_interval);
  config.download.resubscribe_interval = seconds(o.resubscribe_interval);
  config.download.stall_timeout = seconds(o.stall_timeout);
  config.log = &log;
  return config;
}

int run_peer(const PeerOptions& o) {
  if (!o.outputs.empty() && o.outputs.size() != o.cascade_files.size()) {
    fmt::print(stderr, "sockit cascade peer: give one -o per cascade file ({}, {})\n",
               net::counted(o.cascade_files.size(), "file"), net::counted(o.outputs.size(), "output"));
    return 2;
  }
  if (auto error = admin_flags_error(o.admin)) {
    fmt::print(stderr, "sockit cascade peer: {}\n", *error);
    return 2;
  }
  serve::Log log(stdout, !o.verbose);
  // The block server's counters, only with --admin.
  const auto metrics = o.admin.wanted() ? std::make_unique<serve::Metrics>() : nullptr;
  auto config = configure(o, log);
  config.metrics = metrics.get();
  if (config.listen.family() != AF_INET) {
    fmt::print(stderr, "sockit cascade peer: --listen must be an IPv4 address (the tracker stores IPv4)\n");
    return 2;
  }
  // Outputs that would destroy a cascade file or share one file are usage errors; the Peer
  // checks again (a library caller gets the same protection).
  const auto report_files = o.stats.empty() ? std::vector<std::string>{} : std::vector<std::string>{o.stats};
  if (auto checked = cascade::check_peer_files(config.files, report_files); !checked) {
    fmt::print(stderr, "sockit cascade peer: {}\n", checked.error().what());
    return 2;
  }
  std::optional<StatsFile> stats;
  if (!o.stats.empty()) {
    auto opened = StatsFile::open(o.stats);
    if (!opened) {
      fmt::print(stderr, "sockit cascade peer: --stats: {}\n", opened.error().what());
      return 1;
    }
    stats.emplace(std::move(*opened));
  }
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  bool bar_shown = false;
  auto event = [&](const std::string& line) {
    if (!tty) return log.notice(line);
    if (line.starts_with("block ")) return;  // the bar shows those
    fmt::print(stderr, "\r\033[K");
    log.notice(line);
  };
  cascade::ProgressBoard board;
  auto progress = [&](const cascade::Progress& p) {
    board.post(p);
    if (!tty) return;
    draw(p);
    bar_shown = true;
  };
  cascade::Peer peer(config, {event, progress});
  serve::StopSignal stop;
  StopOnSignals signals(stop);  // before the "listening" line: whoever reads it may signal at once
  log.notice(fmt::format("cascade peer listening on {}", peer.address().to_string()));
  std::optional<cascade::PeerStatus> status;
  if (metrics) status.emplace(peer, *metrics, board);
  const auto admin = status ? start_admin(o.admin, *status, log) : nullptr;

  auto reports = peer.download(stop);
  board.post({.blocks_total = 0, .blocks_held = 0, .bytes_total = 0, .bytes_held = 0, .bytes_per_second = 0,
              .peers = 0});  // the downloader is done: no connections, no rate
  if (bar_shown) fmt::print(stderr, "\n");
  // Paths need not be UTF-8: JSON shows what is not as U+FFFD rather than failing.
  if (stats && reports)
    stats->write(to_json(*reports).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n").value();
  const auto& done = reports.value();
  const bool complete = std::all_of(done.begin(), done.end(), [](const auto& r) { return r.complete; });
  for (const auto& r : done)
    log.notice(fmt::format("{}: {} of {} ({} resumed, {} fetched from {}, {}, {} bad)", r.path,
                           r.resumed + r.fetched, net::counted(r.blocks, "block"), r.resumed, r.fetched,
                           net::counted(r.blocks_from.size(), "peer"), net::counted(r.duplicates, "duplicate"),
                           r.bad_blocks));
  if (!complete) {
    log.notice("interrupted: the verified blocks are kept; run again to resume");
    return 1;
  }
  if (o.no_seed || stop.requested()) return 0;

  log.notice(fmt::format("seeding {} on {} (Ctrl-C to stop)", net::counted(peer.file_count(), "file"),
                         peer.address().to_string()));
  peer.seed(stop);
  log.notice("stopped seeding");
  return 0;
}

}  // namespace

Command add_peer(CLI::App& parent) {
  auto o = std::make_shared<PeerOptions>();
  auto* cmd = parent.add_subcommand("peer", "Download the files of cascade files from a swarm, and serve them");
  cmd->add_option("cascade", o->cascade_files, "the .cascade files to fetch and share")->required()
      ->check(checks::non_empty());
  cmd->add_option("--tracker", o->tracker, "the tracker's HOST:PORT")->required()->check(checks::host_port());
  cmd->add_option("--listen", o->listen, "IPv4 IP:PORT to serve blocks on (port 0 picks one)")->required()
      ->check(checks::listen_address());
  cmd->add_option("-o,--output", o->outputs,
                  "where each data file goes (default: the cascade path minus .cascade); a regular file, "
                  "never a cascade file or another file's output")
      ->check(checks::non_empty());
  cmd->add_flag("--no-seed", o->no_seed, "exit once every file is complete instead of serving on");
  cmd->add_option("--max-peers", o->max_peers,
                  "connections per file (each leecher of a swarm should be one of them: docs/swarm.md)")
      ->capture_default_str()
      ->transform(checks::whole<std::size_t>(1, 1000));
  cmd->add_option("--list-interval", o->list_interval, "seconds between peer lists while downloading")->capture_default_str()
      ->transform(checks::positive_seconds());
  cmd->add_option("--resubscribe-interval", o->resubscribe_interval, "seconds between re-subscriptions")->capture_default_str()
      ->transform(checks::positive_seconds());
  cmd->add_option("--stall-timeout", o->stall_timeout, "drop a peer silent this long with requests pending (seconds)")
      ->capture_default_str()->transform(checks::positive_seconds());
  cmd->add_option("--stats", o->stats,
                  "write a JSON report (blocks per peer, drops) to this file at the end (opened at the start)")
      ->check(checks::non_empty());
  cmd->add_flag("--verbose", o->verbose, "also log the block server's connections");
  add_admin_flags(*cmd, o->admin);
  cmd->footer(
      "Example:\n  sockit cascade peer movie.mp4.cascade --tracker 127.0.0.1:8000 --listen 127.0.0.1:0 -o movie.mp4");
  return {cmd, [o] { return run_peer(*o); }};
}

}  // namespace sockit::cli::cascade_commands
