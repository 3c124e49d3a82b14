// cascade::Peer against an in-process tracker on loopback: its block server, a download from a
// seeding Peer, and the seeding loop's subscriptions and stop.
#include "cascade/peer.hpp"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "cascade/cascade_file.hpp"
#include "cascade/hashing.hpp"
#include "cascade/tracker.hpp"
#include "net/byte_order.hpp"
#include "net/io.hpp"
#include "net/socket.hpp"
#include "test_support.hpp"
#include "until_stopped.hpp"

namespace sockit::cascade {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using sockit::testing::TempDir;

constexpr std::uint64_t kBlockSize = 16 << 10;

std::string pattern(std::size_t size) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + i / 251) & 0xff);
  return data;
}

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TrackerConfig tracking_everything() {
  TrackerConfig config;
  config.allow_any = true;
  return config;
}

// What a peer does with a tracker or a seed takes up to 10 s on a loaded machine under ASan.
bool eventually(const std::function<bool()>& done) { return sockit::testing::eventually(done, 10s); }

// Lines a Peer reports, from whichever thread reports them.
class Events {
 public:
  PeerCallbacks callbacks() {
    return {[this](const std::string& line) {
              std::lock_guard lock(mutex_);
              lines_.push_back(line);
            },
            nullptr};
  }
  std::size_t count_containing(std::string_view text) {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(lines_.begin(), lines_.end(), [&](const auto& l) { return l.find(text) != l.npos; }));
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

// seed() on a thread of its own until stop_and_wait() or the end of the test.
struct Seeding : sockit::testing::UntilStopped {
  explicit Seeding(Peer& peer) : UntilStopped([&peer](serve::StopSignal& stop) { peer.seed(stop); }) {}
};

class PeerTest : public ::testing::Test {
 protected:
  PeerTest() {
    std::ofstream(original_, std::ios::binary) << data_;
    auto description = describe_data_file(original_, kBlockSize).value();
    save_cascade(description, cascade_).value();
    hash_ = description.cascade_hash;
    auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
    tracker_address_ = listener.local_address().value();
    tracker_ = std::make_unique<BackgroundServer>(std::move(listener), tracker_service_, serve::Limits{});
  }

  PeerConfig config(const std::string& data_path) const {
    PeerConfig c;
    c.files = {{cascade_, data_path}};
    c.listen = net::Address::loopback(AF_INET, 0);
    c.download.tracker = tracker_address_;
    c.download.list_interval = 100ms;
    c.download.resubscribe_interval = 10min;
    c.download.tracker_timeout = 2s;
    return c;
  }

  std::size_t subscribed() const { return registry_->size(hash_); }

  TempDir dir_;
  const std::string data_ = pattern(3 * kBlockSize + 1000);
  const std::string original_ = dir_.file("data.bin");
  const std::string cascade_ = dir_.file("data.bin.cascade");
  Digest hash_{};
  std::shared_ptr<TrackerRegistry> registry_ = std::make_shared<TrackerRegistry>();
  TrackerService tracker_service_{tracking_everything(), registry_};
  net::Address tracker_address_;
  std::unique_ptr<BackgroundServer> tracker_;
};

TEST_F(PeerTest, ServesItsBlocksFromConstruction) {
  Peer seeder(config(original_), {});
  const auto deadline = net::Deadline::after(5s);
  auto socket = net::connect_to(seeder.address(), 5s).value();
  net::send_all(socket.fd(), encode_block_request({1, hash_}), deadline).value();
  std::array<std::byte, kBlockHeaderSize> header{};
  net::recv_exact(socket.fd(), header, deadline).value();
  EXPECT_EQ(std::to_integer<int>(header[0]), 0);
  ASSERT_EQ(net::load_u64(header.data() + 1), kBlockSize);
  std::string block(kBlockSize, '\0');
  net::recv_exact(socket.fd(), std::as_writable_bytes(std::span(block)), deadline).value();
  EXPECT_EQ(block, data_.substr(kBlockSize, kBlockSize));
}

TEST_F(PeerTest, ACompleteFileIsDownloadedAtOnceFromWhatIsThere) {
  Peer seeder(config(original_), {});
  serve::StopSignal stop;
  auto reports = seeder.download(stop).value();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].complete);
  EXPECT_EQ(reports[0].resumed, 4u);
  EXPECT_EQ(reports[0].fetched, 0u);
}

TEST_F(PeerTest, LeecherDownloadsTheWholeFileFromASeedingPeer) {
  Peer seeder(config(original_), {});
  Seeding seeding(seeder);
  ASSERT_TRUE(eventually([&] { return subscribed() == 1; })) << "the seeder never subscribed";

  const auto copy = dir_.file("copy.bin");
  Peer leecher(config(copy), {});
  serve::StopSignal stop;
  auto download = std::async(std::launch::async, [&] { return leecher.download(stop); });
  if (download.wait_for(30s) != std::future_status::ready) stop.request();
  auto reports = download.get().value();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].complete);
  EXPECT_EQ(reports[0].fetched, 4u);
  EXPECT_EQ(contents(copy), data_);
  EXPECT_TRUE(seeding.stop_and_wait());
}

TEST_F(PeerTest, SeedSubscribesWithTheTrackerAndReturnsPromptlyOnStop) {
  Peer seeder(config(original_), {});
  Seeding seeding(seeder);
  ASSERT_TRUE(eventually([&] { return subscribed() == 1; }));
  const auto asked = Clock::now();
  EXPECT_TRUE(seeding.stop_and_wait(1s)) << "seed() waited out its 10-minute interval";
  EXPECT_LT(Clock::now() - asked, 1s);
}

TEST_F(PeerTest, SeedReportsATrackerThatRefusesAndTriesAgain) {
  auto closed = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  auto c = config(original_);
  c.download.tracker = closed.local_address().value();
  closed.close();
  c.download.resubscribe_interval = 20ms;
  Events events;
  Peer seeder(c, events.callbacks());
  Seeding seeding(seeder);
  // The error names the tracker; the line does not name it a second time.
  const auto line = fmt::format("tracker: connect to {} failed", c.download.tracker.to_string());
  EXPECT_TRUE(eventually([&] { return events.count_containing(line) >= 2; }));
  EXPECT_TRUE(seeding.stop_and_wait());
}

TEST_F(PeerTest, StopDuringASilentTrackerWaitsNoLongerThanTheTrackerTimeout) {
  auto silent = net::listen_on(net::Address::loopback(AF_INET, 0)).value();  // never accepts, never answers
  auto c = config(original_);
  c.download.tracker = silent.local_address().value();
  c.download.tracker_timeout = 300ms;
  Events events;
  Peer seeder(c, events.callbacks());
  Seeding seeding(seeder);
  std::this_thread::sleep_for(50ms);
  const auto asked = Clock::now();
  EXPECT_TRUE(seeding.stop_and_wait(2s));
  EXPECT_LT(Clock::now() - asked, 1s);
}

TEST_F(PeerTest, ListenAddressMustBeIPv4) {
  auto c = config(original_);
  c.listen = net::Address::loopback(AF_INET6, 0);
  try {
    Peer peer(c, {});
    FAIL() << "served on IPv6";
  } catch (const net::Error& e) {
    EXPECT_NE(std::string(e.what()).find("[::1]:0"), std::string::npos) << e.what();
  }
}

TEST_F(PeerTest, MissingCascadeFileNamesItsPathAndLeavesNothingOpen) {
  auto c = config(original_);
  c.files = {{dir_.file("missing.cascade"), dir_.file("missing")}};
  // The fixture's tracker opens its reactors' descriptors on its own thread: count after that.
  const int before = sockit::testing::settled_fd_count();
  try {
    Peer peer(c, {});
    FAIL() << "opened a missing cascade file";
  } catch (const net::Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.cascade"), std::string::npos) << e.what();
  }
  EXPECT_EQ(sockit::testing::open_fd_count(), before) << "the block server's listener must be closed";
}

TEST_F(PeerTest, ADataFileThatIsTheCascadeFileIsRefusedAndLeftWhole) {
  const auto size_before = std::filesystem::file_size(cascade_);
  try {
    Peer peer(config(cascade_), {});
    FAIL() << "wrote the download into its own cascade file";
  } catch (const net::Error& e) {
    EXPECT_EQ(e.code(), net::Errc::file_in_use) << e.what();
  }
  EXPECT_EQ(std::filesystem::file_size(cascade_), size_before);
  EXPECT_TRUE(load_cascade(cascade_)) << "still a valid cascade file";
}

TEST_F(PeerTest, AFailedStartRemovesTheDataFilesItCreated) {
  auto c = config(dir_.file("first.out"));
  c.files.push_back({dir_.file("missing.cascade"), dir_.file("second.out")});
  EXPECT_THROW(Peer(c, {}), net::Error);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("first.out"))) << "an empty output was left behind";
  EXPECT_FALSE(std::filesystem::exists(dir_.file("second.out")));
}

}  // namespace
}  // namespace sockit::cascade
