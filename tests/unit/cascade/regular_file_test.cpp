// Only regular files in, never an input out: the file-system checks of cascade's commands.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "cascade/allow_dir.hpp"
#include "cascade/cascade_file.hpp"
#include "cascade/hashing.hpp"
#include "cascade/library.hpp"
#include "cascade/peer_files.hpp"
#include "cascade/regular_file.hpp"
#include "test_support.hpp"

namespace sockit::cascade {
namespace {

using sockit::testing::TempDir;
using Clock = std::chrono::steady_clock;

std::string message(const net::Error& e) { return e.what(); }

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

CascadeFile described(const std::string& data_path, std::uint64_t block_size = 1024) {
  return describe_data_file(data_path, block_size).value();
}

// ---- opening ----

TEST(CascadeRegularFile, AFifoIsRefusedAtOnceNotWaitedOn) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("f.cascade").c_str(), 0600), 0);
  const auto start = Clock::now();
  for (int flags : {O_RDONLY, O_RDWR | O_CREAT, O_WRONLY | O_CREAT}) {
    auto opened = open_regular(dir.file("f.cascade"), flags);
    ASSERT_FALSE(opened) << flags;
    EXPECT_EQ(opened.error().code(), net::Errc::not_regular_file) << message(opened.error());
    EXPECT_EQ(message(opened.error()),
              "open on " + dir.file("f.cascade") + " failed: Not a regular file (it is a FIFO)");
  }
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
}

TEST(CascadeRegularFile, DevicesAndDirectoriesAreRefusedSayingWhatTheyAre) {
  TempDir dir;
  auto device = open_regular("/dev/null", O_RDONLY);
  ASSERT_FALSE(device);
  EXPECT_EQ(message(device.error()), "open on /dev/null failed: Not a regular file (it is a character device)");
  auto directory = open_regular(dir.file(""), O_RDONLY);
  ASSERT_FALSE(directory);
  EXPECT_NE(message(directory.error()).find("it is a directory"), std::string::npos) << message(directory.error());
}

TEST(CascadeRegularFile, OpeningWithCreateSaysWhetherItCreatedTheFile) {
  TempDir dir;
  auto fresh = open_regular(dir.file("x"), O_RDWR | O_CREAT);
  ASSERT_TRUE(fresh) << message(fresh.error());
  EXPECT_TRUE(fresh->created);
  auto again = open_regular(dir.file("x"), O_RDWR | O_CREAT);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(file_id(again->info), file_id(fresh->info));
}

TEST(CascadeRegularFile, ANewFileIsRemovedUnlessKeptAndNeverOnceReplaced) {
  TempDir dir;
  const auto id_of = [](const std::string& path) {
    struct stat info {};
    EXPECT_EQ(::stat(path.c_str(), &info), 0);
    return file_id(info);
  };
  write_text(dir.file("gone"), "");
  { NewFile f(dir.file("gone"), id_of(dir.file("gone"))); }
  EXPECT_FALSE(exists(dir.file("gone")));
  write_text(dir.file("kept"), "");
  {
    NewFile f(dir.file("kept"), id_of(dir.file("kept")));
    f.keep();
  }
  EXPECT_TRUE(exists(dir.file("kept")));
  write_text(dir.file("replaced"), "");
  {
    NewFile f(dir.file("replaced"), id_of(dir.file("replaced")));
    write_text(dir.file("other"), "someone else's");
    ASSERT_EQ(::rename(dir.file("other").c_str(), dir.file("replaced").c_str()), 0);
  }
  EXPECT_TRUE(exists(dir.file("replaced"))) << "a file that replaced ours is not ours to remove";
}

TEST(CascadeRegularFile, ReadingRefusesFilesAboveTheLimitAndProcFiles) {
  TempDir dir;
  write_text(dir.file("big"), std::string(100, 'x'));
  auto big = read_regular_file(dir.file("big"), 99);
  ASSERT_FALSE(big);
  EXPECT_NE(message(big.error()).find(dir.file("big")), std::string::npos);
  auto fits = read_regular_file(dir.file("big"), 100);
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->size(), 100u);
  auto proc = read_regular_file("/proc/self/status", 1 << 20);  // size 0, yet it holds lines
  ASSERT_FALSE(proc);
  EXPECT_EQ(proc.error().code(), net::Errc::file_changed) << message(proc.error());
}

TEST(CascadeRegularFile, TwoNamesOfAFileYetToBeCreatedNormaliseAlike) {
  TempDir dir;
  ASSERT_EQ(::mkdir(dir.file("sub").c_str(), 0700), 0);
  EXPECT_EQ(normal_path(dir.file("sub/../new.bin")), normal_path(dir.file("./new.bin")));
  ASSERT_EQ(::symlink(dir.file("sub").c_str(), dir.file("link").c_str()), 0);
  EXPECT_EQ(normal_path(dir.file("link/new.bin")), normal_path(dir.file("sub/new.bin")));
  EXPECT_NE(normal_path(dir.file("a")), normal_path(dir.file("b")));
}

// ---- cascade files and data files ----

TEST(CascadeFileSafety, LoadingAFifoNamedCascadeFailsAtOnce) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("x.cascade").c_str(), 0600), 0);
  const auto start = Clock::now();
  auto loaded = load_cascade(dir.file("x.cascade"));
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), net::Errc::not_regular_file);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
}

TEST(CascadeFileSafety, SavingOverTheDataFileIsRefusedThroughAnyLink) {
  TempDir dir;
  const std::string data(3000, 'd');
  write_text(dir.file("data.bin"), data);
  auto file = described(dir.file("data.bin"));
  struct stat info {};
  ASSERT_EQ(::stat(dir.file("data.bin").c_str(), &info), 0);
  const FileId inputs[] = {file_id(info)};
  ASSERT_EQ(::link(dir.file("data.bin").c_str(), dir.file("hard").c_str()), 0);
  ASSERT_EQ(::symlink(dir.file("data.bin").c_str(), dir.file("soft").c_str()), 0);
  for (const auto& name : {"data.bin", "hard", "soft", "./data.bin"}) {
    auto saved = save_cascade(file, dir.file(name), inputs);
    ASSERT_FALSE(saved) << name;
    EXPECT_EQ(saved.error().code(), net::Errc::file_in_use) << message(saved.error());
  }
  std::ifstream in(dir.file("data.bin"), std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), data) << "the data file is untouched";
  EXPECT_TRUE(save_cascade(file, dir.file("data.bin.cascade"), inputs));
}

TEST(CascadeFileSafety, DescribingADeviceOrAProcFileIsRefused) {
  for (const char* path : {"/dev/zero", "/dev/null"}) {
    auto file = describe_data_file(path, 1024);
    ASSERT_FALSE(file) << path;
    EXPECT_EQ(file.error().code(), net::Errc::not_regular_file) << message(file.error());
    EXPECT_NE(message(file.error()).find(path), std::string::npos);
  }
  auto proc = describe_data_file("/proc/self/status", 1024);
  ASSERT_FALSE(proc) << "described as " << proc->target_size << " bytes";
  EXPECT_EQ(proc.error().code(), net::Errc::file_changed) << message(proc.error());
  EXPECT_NE(message(proc.error()).find("/proc/self/status"), std::string::npos);
}

TEST(CascadeFileSafety, HashingErrorsNameTheFile) {
  TempDir dir;
  write_text(dir.file("d"), std::string(2000, 'd'));
  const auto file = described(dir.file("d"));
  net::Fd directory(::open(dir.file("").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto valid = valid_blocks(directory.get(), "the/dir", file);
  ASSERT_FALSE(valid);
  EXPECT_EQ(message(valid.error()), "pread on the/dir failed: Is a directory");
}

TEST(CascadeSharedFile, AFifoAsDataFileIsRefusedAtOnce) {
  TempDir dir;
  write_text(dir.file("d"), std::string(2000, 'd'));
  ASSERT_EQ(::mkfifo(dir.file("out").c_str(), 0600), 0);
  auto shared = open_shared_file(described(dir.file("d")), dir.file("out"));
  ASSERT_FALSE(shared);
  EXPECT_EQ(shared.error().code(), net::Errc::not_regular_file) << message(shared.error());
}

TEST(CascadeSharedFile, AFileItCreatedGoesAgainWhenItFailsOrHoldsNothing) {
  TempDir dir;
  write_text(dir.file("d"), std::string(2000, 'd'));
  auto description = described(dir.file("d"));
  {
    auto shared = open_shared_file(description, dir.file("new"));
    ASSERT_TRUE(shared) << message(shared.error());
    EXPECT_TRUE(exists(dir.file("new")));
  }
  EXPECT_FALSE(exists(dir.file("new"))) << "no verified block: nothing left behind";

  auto huge = description;  // past the largest off_t: ftruncate fails after the create
  huge.target_size = std::uint64_t{1} << 63;
  huge.block_size = std::uint64_t{1} << 62;
  huge.block_hashes.resize(2);
  auto failed = open_shared_file(huge, dir.file("huge"));
  ASSERT_FALSE(failed);
  EXPECT_NE(message(failed.error()).find(dir.file("huge")), std::string::npos) << message(failed.error());
  EXPECT_FALSE(exists(dir.file("huge"))) << "a failed start leaves no empty file";

  {
    auto shared = open_shared_file(description, dir.file("some")).value();
    std::string block(1024, 'd');
    ASSERT_TRUE(shared->write_block(0, std::as_bytes(std::span(block))));
  }
  EXPECT_TRUE(exists(dir.file("some"))) << "a verified block is kept for the next run";
  write_text(dir.file("theirs"), "");
  { auto shared = open_shared_file(description, dir.file("theirs")).value(); }
  EXPECT_TRUE(exists(dir.file("theirs"))) << "a file it did not create stays";
}

// ---- a peer's outputs ----

class CascadePeerFiles : public ::testing::Test {
 protected:
  CascadePeerFiles() {
    write_text(dir_.file("a.bin"), std::string(2000, 'a'));
    write_text(dir_.file("b.bin"), std::string(2000, 'b'));
    for (const char* name : {"a.bin", "b.bin"}) {
      auto file = described(dir_.file(name));
      save_cascade(file, dir_.file(std::string(name) + ".cascade")).value();
    }
    ::link(dir_.file("a.bin.cascade").c_str(), dir_.file("myfile").c_str());
  }

  std::string refusal(std::vector<PeerFile> files) {
    auto checked = check_peer_files(files);
    return checked ? "" : message(checked.error());
  }

  TempDir dir_;
  std::string a_ = dir_.file("a.bin.cascade");
  std::string b_ = dir_.file("b.bin.cascade");
};

TEST_F(CascadePeerFiles, DistinctRegularOrNewOutputsPass) {
  EXPECT_EQ(refusal({{a_, dir_.file("a.bin")}, {b_, dir_.file("new.bin")}}), "");
}

TEST_F(CascadePeerFiles, AnOutputThatIsACascadeFileIsRefused) {
  EXPECT_NE(refusal({{dir_.file("myfile"), dir_.file("myfile")}}).find("it is the cascade file"), std::string::npos);
  EXPECT_NE(refusal({{a_, dir_.file("out")}, {b_, a_}}).find("it is the cascade file " + a_), std::string::npos);
  EXPECT_NE(refusal({{a_, dir_.file("myfile")}}).find("it is the cascade file"), std::string::npos)
      << "a hard link to the cascade file is the cascade file";
}

TEST_F(CascadePeerFiles, TwoOutputsNamingOneFileAreRefused) {
  EXPECT_NE(refusal({{a_, dir_.file("same.bin")}, {b_, dir_.file("same.bin")}}).find("also the data file of " + a_),
            std::string::npos)
      << "not there yet: the same path";
  EXPECT_NE(refusal({{a_, dir_.file("x/../same.bin")}, {b_, dir_.file("./same.bin")}}).find("also the data file"),
            std::string::npos)
      << "not there yet: the same normalised path";
  ASSERT_EQ(::symlink(dir_.file("a.bin").c_str(), dir_.file("alias").c_str()), 0);
  EXPECT_NE(refusal({{a_, dir_.file("a.bin")}, {b_, dir_.file("alias")}}).find("also the data file"), std::string::npos)
      << "there: the same file";
}

TEST_F(CascadePeerFiles, AnOutputThatIsNotARegularFileIsRefused) {
  EXPECT_EQ(refusal({{a_, "/dev/null"}}),
            "check data file on /dev/null failed: Not a regular file (it is a character device)");
  EXPECT_NE(refusal({{a_, dir_.file("")}}).find("it is a directory"), std::string::npos);
}

TEST_F(CascadePeerFiles, AReportFileThatIsACascadeOrDataFileIsRefused) {
  const std::vector<PeerFile> files{{a_, dir_.file("out.bin")}};
  auto checked = check_peer_files(files, {a_});
  ASSERT_FALSE(checked);
  EXPECT_EQ(message(checked.error()),
            "check report file on " + a_ + " failed: The file is already given as another input or output (it is the "
            "cascade file " + a_ + ")");
  EXPECT_FALSE(check_peer_files(files, {dir_.file("./out.bin")}));
  EXPECT_TRUE(check_peer_files(files, {dir_.file("stats.json")}));
}

// ---- the tracker's --allow-dir ----

TEST(CascadeAllowDir, OnlyRegularCascadeFilesAreReadAndTheRestIsSkippedWithWhy) {
  TempDir dir;
  write_text(dir.file("d"), std::string(2000, 'd'));
  auto good = described(dir.file("d"));
  save_cascade(good, dir.file("good.cascade")).value();
  ASSERT_EQ(::mkfifo(dir.file("fifo.cascade").c_str(), 0600), 0);
  write_text(dir.file("junk.cascade"), "not a cascade file");
  write_text(dir.file("other.txt"), "ignored");
  const auto start = Clock::now();
  auto found = scan_allow_dir(dir.file(""));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  ASSERT_TRUE(found) << message(found.error());
  ASSERT_EQ(found->tracked.size(), 1u);
  EXPECT_EQ(found->tracked[0].cascade_hash, good.cascade_hash);
  ASSERT_EQ(found->skipped.size(), 2u);
  const auto all = found->skipped[0] + "\n" + found->skipped[1];
  EXPECT_NE(all.find("fifo.cascade failed: Not a regular file (it is a FIFO)"), std::string::npos) << all;
  EXPECT_NE(all.find("junk.cascade"), std::string::npos) << all;
}

TEST(CascadeAllowDir, AMissingDirectoryIsAnErrorNamingIt) {
  auto found = scan_allow_dir("/nonexistent/dir");
  ASSERT_FALSE(found);
  EXPECT_EQ(message(found.error()), "read directory on /nonexistent/dir failed: No such file or directory");
}

}  // namespace
}  // namespace sockit::cascade
