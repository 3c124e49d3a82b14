#include "serve/log.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace sockit::serve {
namespace {

// What `log` wrote to its tmpfile, one JSON record per line.
std::vector<nlohmann::json> records_of(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::vector<nlohmann::json> records;
  char line[4096];
  while (std::fgets(line, sizeof line, file)) records.push_back(nlohmann::json::parse(line));
  return records;
}

struct TmpFile {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{std::tmpfile(), &std::fclose};
};

TEST(JsonLog, ConnectionEventsGivePeerEventAndCountsAsFields) {
  TmpFile out;
  Log log(out.file.get(), false, Log::Format::json);
  log.connection(connected_line("127.0.0.1:50312"));
  log.connection(closed_line("127.0.0.1:50312", 1, "idle for 2 s"));
  log.connection(refused_line("[::1]:40000", 1));
  const auto records = records_of(out.file.get());
  ASSERT_EQ(records.size(), 3U);
  EXPECT_EQ(records[0]["event"], "connected");
  EXPECT_EQ(records[0]["peer"], "127.0.0.1:50312");
  EXPECT_EQ(records[0]["message"], "connected 127.0.0.1:50312");
  EXPECT_EQ(records[1]["event"], "closed");
  EXPECT_EQ(records[1]["requests"], 1);
  EXPECT_EQ(records[1]["reason"], "idle for 2 s");
  EXPECT_EQ(records[1]["message"], "closed 127.0.0.1:50312 after 1 request (idle for 2 s)");
  EXPECT_EQ(records[2]["event"], "refused");
  EXPECT_EQ(records[2]["peer"], "[::1]:40000");
  EXPECT_EQ(records[2]["message"], "refused [::1]:40000: 1 connection already (--max-conns)");
}

TEST(JsonLog, OtherLinesHaveOnlyTheMessage) {
  TmpFile out;
  Log log(out.file.get(), false, Log::Format::json);
  log.notice("stopped");
  const auto records = records_of(out.file.get());
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0]["message"], "stopped");
  EXPECT_EQ(records[0]["level"], "notice");
  EXPECT_FALSE(records[0].contains("event"));
}

TEST(JsonLog, BytesThatAreNoUtf8DoNotThrow) {
  TmpFile out;
  Log log(out.file.get(), false, Log::Format::json);
  EXPECT_NO_THROW(log.notice("bad \xff\xfe request"));
  EXPECT_EQ(records_of(out.file.get()).size(), 1U);
}

TEST(TextLog, ConnectionEventsAreTheirLine) {
  TmpFile out;
  Log log(out.file.get());
  log.connection(closed_line("127.0.0.1:1", 2, ""));
  std::fflush(out.file.get());
  std::rewind(out.file.get());
  char line[256] = {};
  ASSERT_TRUE(std::fgets(line, sizeof line, out.file.get()));
  EXPECT_STREQ(line, "closed 127.0.0.1:1 after 2 requests\n");
}

TEST(Log, QuietSkipsConnectionEvents) {
  TmpFile out;
  Log log(out.file.get(), true, Log::Format::json);
  log.connection(connected_line("127.0.0.1:1"));
  log.notice("stopped");
  EXPECT_EQ(records_of(out.file.get()).size(), 1U);
}

}  // namespace
}  // namespace sockit::serve
