#include "tools/scan_resume.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace sockit::tools {
namespace {

ResumeState sample() {
  ResumeState s;
  s.plan.target = "127.0.0.1";
  s.plan.ports = {1, 2, 3, 7, 9, 10};
  s.plan.banner = true;
  PortResult closed;
  closed.port = 2;
  closed.state = PortState::closed;
  closed.reason = "conn-refused";
  closed.attempts = 1;
  PortResult open;
  open.port = 7;
  open.state = PortState::open;
  open.reason = "syn-ack";
  open.attempts = 2;
  open.banner = std::string("HEAD / HTTP/1.0\0\xff", 17);
  open.identified = "echo";
  s.done = {closed, open};
  s.elapsed_s = 1.5;
  s.probes = 9;
  return s;
}

// The sample's text with `from` replaced by `to` (which must occur).
std::string altered(std::string_view from, std::string_view to) {
  auto text = format_resume(sample());
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

std::string error_of(const std::string& text) {
  auto parsed = parse_resume(text);
  EXPECT_FALSE(parsed) << text;
  return parsed ? "" : parsed.error().what();
}

TEST(PortRanges, CompressesRunsAndReadsBackTheSame) {
  const std::vector<std::uint16_t> ports = {1, 2, 3, 7, 9, 10, 65535};
  EXPECT_EQ(port_ranges(ports), "1-3,7,9-10,65535");
  EXPECT_EQ(parse_ports(port_ranges(ports)).value(), ports);
}

TEST(ResumeFile, RoundTripsEveryField) {
  const auto s = sample();
  const auto back = parse_resume(format_resume(s)).value();
  EXPECT_EQ(back.plan.target, "127.0.0.1");
  EXPECT_EQ(back.plan.ports, s.plan.ports);
  EXPECT_TRUE(back.plan.banner);
  ASSERT_EQ(back.done.size(), 2u);
  EXPECT_EQ(back.done[1].banner, s.done[1].banner);
  EXPECT_EQ(back.done[1].identified, "echo");
  EXPECT_EQ(back.done[1].attempts, 2);
  EXPECT_EQ(back.done[0].state, PortState::closed);
  EXPECT_EQ(back.probes, 9);
  EXPECT_DOUBLE_EQ(back.elapsed_s, 1.5);
}

TEST(ResumeFile, CutShortIsRefused) {
  const auto text = format_resume(sample());
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, text.size() / 2, text.size() - 4, text.size() - 1})
    EXPECT_FALSE(parse_resume(text.substr(0, cut))) << cut;
}

TEST(ResumeFile, WrongMagicOrVersionIsRefused) {
  EXPECT_NE(error_of(altered("sockit-scan-resume 1", "sockit-scan-resume 2")).find("line 1"), std::string::npos);
  EXPECT_FALSE(parse_resume("GET / HTTP/1.0\r\n\r\n"));
}

TEST(ResumeFile, HostileFieldsAreRefusedNamingTheLine) {
  EXPECT_NE(error_of(altered("done 2 closed", "done 4 closed")).find("not one the scan scans"), std::string::npos);
  EXPECT_NE(error_of(altered("done 2 closed", "done 70000 closed")).find("1-65535"), std::string::npos);
  EXPECT_NE(error_of(altered("done 2 closed", "done 7 closed")).find("twice"), std::string::npos);
  EXPECT_NE(error_of(altered("closed conn-refused", "shut conn-refused")).find("unknown state"), std::string::npos);
  EXPECT_FALSE(parse_resume(altered("conn-refused", "Conn;rm -rf")));
  EXPECT_FALSE(parse_resume(altered("conn-refused 1", "conn-refused 0")));
  EXPECT_FALSE(parse_resume(altered("conn-refused 1", "conn-refused 99999999999999999999")));
  EXPECT_FALSE(parse_resume(altered(" echo ", " ssh ")));
  EXPECT_FALSE(parse_resume(altered("target 127.0.0.1", std::string_view("target 127.0.0.1\0x", 18))));
  EXPECT_FALSE(parse_resume(altered("target 127.0.0.1", "target example.com")));
  EXPECT_FALSE(parse_resume(altered("protocol tcp", "protocol sctp")));
  EXPECT_FALSE(parse_resume(altered("ports 1-3", "ports 3-1")));
  EXPECT_FALSE(parse_resume(altered("retries 1", "retries -1")));
  EXPECT_FALSE(parse_resume(altered("retries 1", "retries 1 2")));
  EXPECT_FALSE(parse_resume(altered("timeout-ms 1000", "timeout-ms 0")));
  EXPECT_FALSE(parse_resume(altered("elapsed-s 1.5", "elapsed-s nan")));
  EXPECT_FALSE(parse_resume(altered("elapsed-s 1.5", "elapsed-s inf")));
  EXPECT_FALSE(parse_resume(altered("probes 9", "probes -9")));
  EXPECT_FALSE(parse_resume(altered("banner 1", "banner yes")));
}

TEST(ResumeFile, BannersAreBoundedHexOfOpenPortsOnly) {
  EXPECT_FALSE(parse_resume(altered("syn-ack 2 ", "syn-ack 2 4")));   // odd length
  EXPECT_FALSE(parse_resume(altered("syn-ack 2 ", "syn-ack 2 zz")));  // not hex
  EXPECT_FALSE(parse_resume(altered("syn-ack 2 ", "syn-ack 2 " + std::string(2 * 257, 'a'))));
  EXPECT_FALSE(parse_resume(altered("conn-refused 1 -", "conn-refused 1 41")));  // a closed port's banner
}

TEST(ResumeFile, MissingDuplicateUnknownAndTrailingLinesAreRefused) {
  EXPECT_FALSE(parse_resume(altered("retries 1\n", "")));
  EXPECT_FALSE(parse_resume(altered("retries 1\n", "retries 1\nretries 1\n")));
  EXPECT_FALSE(parse_resume(altered("retries 1\n", "retries 1\nexec /bin/sh\n")));
  EXPECT_FALSE(parse_resume(altered("retries 1\n", "retries 1\n\n")));
  EXPECT_FALSE(parse_resume(format_resume(sample()) + "done 3 closed conn-refused 1 - - -\n"));
  EXPECT_FALSE(parse_resume(altered("end\n", "end")));
  auto done_first = altered("target 127.0.0.1\n", "done 1 closed conn-refused 1 - - -\ntarget 127.0.0.1\n");
  EXPECT_FALSE(parse_resume(done_first));
}

TEST(ResumeFile, OversizeTextIsRefusedUnparsed) {
  std::string huge = format_resume(sample());
  huge.resize(kResumeFileMax + 1, 'x');
  EXPECT_FALSE(parse_resume(huge));
}

TEST(PlanConflict, NamesTheOptionAndBothValues) {
  auto a = sample().plan;
  auto b = a;
  EXPECT_FALSE(plan_conflict(a, b));
  b.ports = {1, 2};
  auto conflict = plan_conflict(a, b);
  ASSERT_TRUE(conflict);
  EXPECT_NE(conflict->find("--ports"), std::string::npos);
  EXPECT_NE(conflict->find("1-3,7,9-10"), std::string::npos);
  EXPECT_NE(conflict->find("1-2"), std::string::npos);
  b = a;
  b.protocol = ScanProtocol::udp;
  EXPECT_TRUE(plan_conflict(a, b));
  b = a;
  b.retries = 3;
  EXPECT_TRUE(plan_conflict(a, b));
  b = a;
  b.target = "::1";
  EXPECT_TRUE(plan_conflict(a, b));
}

class ResumeFileOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/scan_resume_test.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/state";
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::unlink((path_ + ".tmp").c_str());
    ::rmdir((dir_ + "/sub").c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

TEST_F(ResumeFileOnDisk, SavedFileLoadsBackAndLeavesNoTemporary) {
  save_resume(path_, sample()).value();
  auto loaded = load_resume(path_).value();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->done.size(), 2u);
  EXPECT_NE(::access((path_ + ".tmp").c_str(), F_OK), 0);
}

TEST_F(ResumeFileOnDisk, MissingFileIsNoStateAndADirectoryIsAnError) {
  EXPECT_FALSE(load_resume(path_).value());
  ASSERT_EQ(::mkdir((dir_ + "/sub").c_str(), 0700), 0);
  EXPECT_FALSE(load_resume(dir_ + "/sub"));
}

TEST_F(ResumeFileOnDisk, OversizeFileIsRefusedNamingThePath) {
  {
    std::ofstream out(path_);
    out << std::string(kResumeFileMax + 10, 'x');
  }
  auto r = load_resume(path_);
  ASSERT_FALSE(r);
  EXPECT_NE(std::string(r.error().what()).find(path_), std::string::npos);
}

TEST_F(ResumeFileOnDisk, CorruptFileErrorNamesThePathAndLine) {
  {
    std::ofstream out(path_);
    out << altered("retries 1", "retries eleven");
  }
  auto r = load_resume(path_);
  ASSERT_FALSE(r);
  const std::string what = r.error().what();
  EXPECT_NE(what.find(path_), std::string::npos) << what;
  EXPECT_NE(what.find("line 6"), std::string::npos) << what;
}

}  // namespace
}  // namespace sockit::tools
