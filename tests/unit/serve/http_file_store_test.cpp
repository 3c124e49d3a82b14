#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "serve/services/http/file_store.hpp"

namespace sockit::serve::services::http {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sockit-file-store-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "dir");
    write("a.txt", "alpha");
    write("dir/b.txt", "beta");
    fs::create_symlink("/etc/passwd", root_ / "out");
    fs::create_symlink("../../../../../../etc", root_ / "climb");
    fs::create_symlink("a.txt", root_ / "in");
    ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& name, const std::string& text) { std::ofstream(root_ / name) << text; }

  fs::path root_;
};

TEST_F(FileStoreTest, OpensFilesAndDirectoriesBeneathTheRoot) {
  FileStore store(root_, {});
  auto a = store.open("a.txt");
  ASSERT_TRUE(a) << a.error().what();
  EXPECT_FALSE(a->directory);
  EXPECT_EQ(a->size, 5u);
  EXPECT_EQ(a->etag.front(), '"');
  auto dir = store.open("dir/");
  ASSERT_TRUE(dir);
  EXPECT_TRUE(dir->directory);
  EXPECT_TRUE(store.open(""));
  EXPECT_TRUE(store.open("in")) << "a symlink that stays inside is followed";
}

TEST_F(FileStoreTest, NothingOutsideTheRootNorAnythingButFilesAndDirectories) {
  FileStore store(root_, {});
  for (const char* path : {"out", "climb/passwd", "../a.txt", "dir/../../a.txt", "/etc/passwd", "fifo", "missing"}) {
    const auto started = std::chrono::steady_clock::now();
    EXPECT_FALSE(store.open(path)) << path;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << path << ": a FIFO must not block";
  }
}

TEST_F(FileStoreTest, AHotFileIsOpenedOncePerRevalidationAndAChangeIsSeenAfterIt) {
  FileStore cached(root_, {.max_entries = 16, .revalidate = 1h});
  const auto first = cached.open("a.txt").value();
  EXPECT_EQ(cached.open("a.txt").value().fd, first.fd) << "the same descriptor while fresh";
  FileStore revalidating(root_, {.max_entries = 16, .revalidate = 0ms});
  const auto before = revalidating.open("a.txt").value();
  EXPECT_EQ(revalidating.open("a.txt").value().fd, before.fd) << "unchanged on disk: the descriptor is kept";
  write("a.txt", "alphabet");
  const auto after = revalidating.open("a.txt").value();
  EXPECT_EQ(after.size, 8u);
  EXPECT_NE(after.etag, before.etag);
  EXPECT_EQ(before.fd.use_count(), 1) << "the old descriptor lives only as long as a response holds it";
  fs::remove(root_ / "a.txt");
  EXPECT_FALSE(revalidating.open("a.txt"));
  EXPECT_EQ(revalidating.cached(), 0u);
}

TEST_F(FileStoreTest, AMissingPathIsRememberedUntilRevalidationAndACreatedFileIsSeenAfterIt) {
  FileStore cached(root_, {.max_entries = 16, .revalidate = 1h});
  EXPECT_FALSE(cached.find("a.txt.gz"));
  write("a.txt.gz", "gz");
  EXPECT_FALSE(cached.find("a.txt.gz")) << "not there a moment ago: not looked for again while fresh";
  EXPECT_FALSE(cached.open("a.txt.gz")) << "open() agrees with find()";
  EXPECT_EQ(cached.cached(), 0u) << "missing paths are not counted";
  FileStore revalidating(root_, {.max_entries = 16, .revalidate = 0ms});
  fs::remove(root_ / "a.txt.gz");
  EXPECT_FALSE(revalidating.find("a.txt.gz"));
  write("a.txt.gz", "gz");
  const auto found = revalidating.find("a.txt.gz");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->size, 2u);
  const auto opened = revalidating.open("missing");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), std::errc::no_such_file_or_directory) << opened.error().what();
}

TEST_F(FileStoreTest, TheCacheHoldsAtMostItsEntries) {
  // Names from a table: g++ 12 at -O3 sees a false stringop-overflow in "f" + std::to_string(i).
  const std::vector<std::string> names = {"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"};
  for (const auto& name : names) write(name, "x");
  FileStore store(root_, {.max_entries = 3, .revalidate = 1h});
  for (const auto& name : names) ASSERT_TRUE(store.open(name));
  EXPECT_EQ(store.cached(), 3u);
}

TEST_F(FileStoreTest, ListsADirectorySorted) {
  FileStore store(root_, {});
  const auto names = store.list(store.open("").value()).value();
  std::vector<std::string> seen;
  for (const auto& n : names) seen.push_back(n.name + (n.directory ? "/" : ""));
  EXPECT_EQ(seen, (std::vector<std::string>{"a.txt", "climb", "dir/", "in", "out"})) << "no FIFO";
}

TEST(FileStore, ARootThatIsNoDirectoryIsAnErrorNamingIt) {
  try {
    FileStore store("/nonexistent/root", {});
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/root"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sockit::serve::services::http
