#include <fcntl.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include "bench_report_support.hpp"
#include "test_support.hpp"
#include "tools/bench_histogram_json.hpp"
#include "tools/bench_report.hpp"
#include "tools/bench_report_read.hpp"
#include "tools/bench_workload.hpp"
#include "tools/scan_identify.hpp"

namespace sockit::tools {
namespace {

using nlohmann::json;

FakeRun some_run() { return {.latencies_ns = {90, 1'000, 1'500, 20'000, 20'001, 3'000'000, 45'000'000}}; }

json some_json() { return to_json(fake_report(some_run())); }

std::string refusal_text(const std::string& text) {
  try {
    parse_report(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

std::string refusal(const json& report) { return refusal_text(report.dump()); }

std::string refusal_of(std::function<void(json&)> change) {
  auto report = some_json();
  change(report);
  return refusal(report);
}

TEST(BenchReportJson, CarriesTheWholeHistogramWithEachBucketsRange) {
  const auto j = some_json();
  EXPECT_EQ(j["format"], "sockit-bench-report");
  EXPECT_EQ(j["version"], 1);
  const auto& h = j["latency_histogram"];
  EXPECT_EQ(h["scheme"], "log-linear");
  EXPECT_EQ(h["scheme_version"], 1);
  EXPECT_EQ(h["sub_bucket_bits"], 7);
  EXPECT_EQ(h["unit"], "ns");
  EXPECT_EQ(h["count"], 7);
  EXPECT_EQ(h["min"], 90);
  EXPECT_EQ(h["max"], 45'000'000);
  // 20000 and 20001 share a bucket of width 128: 19968..20095.
  const json expected = json::array({json::array({90, 90, 90, 1}),
                                     json::array({506, 1000, 1003, 1}),
                                     json::array({571, 1496, 1503, 1}),
                                     json::array({1052, 19968, 20095, 2}),
                                     json::array({1975, 2998272, 3014655, 1}),
                                     json::array({2475, 44826624, 45088767, 1})});
  EXPECT_EQ(h["buckets"], expected);
}

TEST(BenchReportJson, SaysWhereAndWhenTheRunWasMadeAndWhatItAsked) {
  const auto j = some_json();
  EXPECT_EQ(j["workload"], "echo");
  EXPECT_EQ(j["workload_options"], json({{"size", 64}}));
  EXPECT_EQ(j["target"], "10.77.0.1:10007");
  EXPECT_EQ(j["load_host"], json({{"name", "load-1"}, {"address", "10.77.0.2"}}));
  EXPECT_EQ(j["window"]["start"], "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(j["window"]["end_unix_ns"], 1'800'000'002'000'000'000);
  EXPECT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["requests"], 7);
  EXPECT_EQ(j["runs"][0]["source"], nullptr);
  EXPECT_EQ(j["requests"], 7);
  EXPECT_DOUBLE_EQ(j["requests_per_s"].get<double>(), 3.5);
}

TEST(BenchReportJson, WorkloadOptionsTellRunsOfOneWorkloadApart) {
  BenchConfig config;
  config.target = net::Address::parse("127.0.0.1:7").value();
  const auto options_of = [&](WorkloadOptions w) {
    config.workload = w;
    config.exchange = make_exchange(w);
    return workload_options_of(config);
  };
  EXPECT_EQ(options_of({.workload = Workload::echo, .size = 100}), json({{"size", 100}}));
  EXPECT_EQ(options_of({.workload = Workload::stream}), json({{"size", 1 << 20}}));
  EXPECT_EQ(options_of({.workload = Workload::fib, .fib_n = 30}), json({{"n", 30}}));
  EXPECT_EQ(options_of({.workload = Workload::raw, .send = std::string("PING\r\n\xff", 7), .expect = "+PONG\r\n"}),
            json({{"send", "PING\\r\\n\\xff"}, {"expect", "+PONG\\r\\n"}, {"expect_bytes", nullptr}}));
  EXPECT_EQ(options_of({.workload = Workload::http, .url = {.host = "h", .port = "80", .path = "/", .authority = "h"},
                        .method = "HEAD"}),
            json({{"method", "HEAD"}}));
  EXPECT_EQ(options_of({.workload = Workload::time}), json::object());
}

TEST(BenchReportJson, RawOptionsAreEscapedAsSendTakesThemBackForEveryByte) {
  std::string every;
  for (int b = 0; b < 256; ++b) every.push_back(static_cast<char>(b));
  const auto text = escape_banner(every);
  EXPECT_EQ(decode_escapes(text), every);
  for (const char c : text) EXPECT_TRUE(c >= 0x20 && c < 0x7f);
}

TEST(BenchReportRead, ReadsBackWhatWasWritten) {
  const auto original = fake_report(some_run());
  const auto again = parse_report(to_json(original).dump());
  EXPECT_EQ(again.workload, "echo");
  EXPECT_EQ(again.target, original.target);
  EXPECT_EQ(again.counters.requests, 7u);
  EXPECT_EQ(again.counters.latency_ns.buckets(), original.counters.latency_ns.buckets());
  EXPECT_EQ(again.counters.errors, original.counters.errors);
  EXPECT_DOUBLE_EQ(again.seconds, 2.0);
  ASSERT_EQ(again.runs.size(), 1u);
  EXPECT_EQ(again.runs[0].host.name, "load-1");
  EXPECT_EQ(again.runs[0].window.start_ns, 1'800'000'000'000'000'000);
  EXPECT_EQ(again.runs[0].p99_ns, original.runs[0].p99_ns);
  EXPECT_EQ(to_json(again)["latency_us"], to_json(original)["latency_us"]);
}

TEST(BenchReportRead, ReadsBackAnHttpRunsStatusCodes) {
  auto run = some_run();
  run.workload = {.workload = Workload::http, .url = {.host = "h", .port = "80", .path = "/", .authority = "h"}};
  run.target = "10.77.0.1:80";
  auto report = fake_report(run);
  for (int i = 0; i < 5; ++i) report.counters.http.record(200, 100);
  report.counters.http.record(404, 10);
  const auto again = parse_report(to_json(report).dump());
  EXPECT_TRUE(again.http);
  EXPECT_EQ(again.counters.http.in_class(2), 5u);
  EXPECT_EQ(again.counters.http.by_status[304], 1u);
  EXPECT_EQ(again.counters.http.body_bytes, 510u);
}

TEST(BenchReportRead, RefusesWhatIsNotAReportOfThisVersion) {
  EXPECT_EQ(refusal(json::array()), "not a sockit bench report (not a JSON object)");
  EXPECT_EQ(refusal_of([](json& j) { j.erase("format"); }),
            "not a sockit bench report of version 1 or later: no 'format' (an older sockit bench wrote no histogram; "
            "run it again)");
  EXPECT_EQ(refusal_of([](json& j) { j["format"] = "wrk"; }), "not a sockit bench report: its format is 'wrk'");
  EXPECT_EQ(refusal_of([](json& j) { j["version"] = 2; }), "a report of version 2; this sockit reads version 1");
}

TEST(BenchReportRead, RefusesMalformedJson) {
  for (const std::string text : {"", "{", "{\"format\": }", "[1, 2", "\"\\ud800\"", "{} {}"}) {
    try {
      parse_report(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const std::invalid_argument& e) {
      EXPECT_TRUE(std::string(e.what()).starts_with("not JSON: ")) << e.what();
    }
  }
  EXPECT_EQ(refusal_text(some_json().dump() + std::string(1, '\0') + "garbage"),
            fmt::format("not JSON: a NUL byte at offset {}", some_json().dump().size()));
  try {
    parse_report("{\"format\": \"a\xff\"}");
    ADD_FAILURE() << "accepted invalid UTF-8";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("not JSON: ")) << e.what();
  }
}

TEST(BenchReportRead, RefusesJsonNestedDeeperThanAnyReport) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_THROW(
      {
        try {
          parse_report(deep);
        } catch (const std::invalid_argument& e) {
          EXPECT_STREQ(e.what(), "JSON nested deeper than 8 levels: not a sockit bench report");
          throw;
        }
      },
      std::invalid_argument);
  auto nested = some_json();
  nested["workload_options"] = json::parse("{\"a\": [[[[[[[[1]]]]]]]]}");
  EXPECT_EQ(refusal(nested), "JSON nested deeper than 8 levels: not a sockit bench report");
}

TEST(BenchReportRead, RefusesAHistogramOfAnotherScheme) {
  const std::string why =
      "latency_histogram: the histogram's scheme is {} version {} with {} sub-bucket bits in {}; this sockit reads "
      "log-linear version 1 with 7 in ns, and cannot rebuild percentiles from another";
  EXPECT_EQ(refusal_of([](json& j) { j["latency_histogram"]["scheme"] = "hdr"; }),
            fmt::format(fmt::runtime(why), "hdr", 1, 7, "ns"));
  EXPECT_EQ(refusal_of([](json& j) { j["latency_histogram"]["scheme_version"] = 2; }),
            fmt::format(fmt::runtime(why), "log-linear", 2, 7, "ns"));
  EXPECT_EQ(refusal_of([](json& j) { j["latency_histogram"]["sub_bucket_bits"] = 8; }),
            fmt::format(fmt::runtime(why), "log-linear", 1, 8, "ns"));
  EXPECT_EQ(refusal_of([](json& j) { j["latency_histogram"]["unit"] = "us"; }),
            fmt::format(fmt::runtime(why), "log-linear", 1, 7, "us"));
}

TEST(BenchReportRead, RefusesAHistogramWhoseCountsDoNotAddUp) {
  EXPECT_EQ(refusal_of([](json& j) { j["latency_histogram"]["count"] = 8; }),
            "latency_histogram: the histogram's count is 8 but its buckets add up to 7");
  EXPECT_EQ(refusal_of([](json& j) { j["latency_histogram"]["buckets"][3][3] = 3; }),
            "latency_histogram: the histogram's count is 7 but its buckets add up to 8");
  EXPECT_EQ(refusal_of([](json& j) {
              j["latency_histogram"]["buckets"][3][3] = 3;
              j["latency_histogram"]["count"] = 8;
            }),
            "the latency histogram holds 8 latencies but the report counts 7 requests");
  EXPECT_EQ(refusal_of([](json& j) { j["latency_histogram"]["buckets"][1] = json::array({506, 1000, 1007, 1}); }),
            "latency_histogram: buckets[1] says bucket 506 holds 1000..1007: no bucket of the scheme does");
  EXPECT_EQ(refusal_of([](json& j) { j["latency_histogram"]["buckets"][1] = json::array({506, 1000, 1003}); }),
            "latency_histogram: buckets[1] must be [index, lowest, highest, count], four whole numbers, not array "
            "[506,1000,1003]");
  EXPECT_EQ(refusal_of([](json& j) { j["latency_histogram"]["buckets"][1][3] = -1; }),
            "latency_histogram: buckets[1] must be [index, lowest, highest, count], four whole numbers, not array "
            "[506,1000,1003,-1]");
  EXPECT_EQ(refusal_of([](json& j) { j["latency_histogram"]["buckets"][1][3] = 1.5; }),
            "latency_histogram: buckets[1] must be [index, lowest, highest, count], four whole numbers, not array "
            "[506,1000,1003,1.5]");
  EXPECT_EQ(refusal_of([](json& j) { j["latency_histogram"]["min"] = 5; }),
            "latency_histogram: min 5 and max 45000000 are not in the first and last non-empty buckets (90 and 2475)");
  EXPECT_EQ(refusal_of([](json& j) {
              auto& buckets = j["latency_histogram"]["buckets"];
              for (int i = 0; i < 7425; ++i) buckets.push_back(json::array({0, 0, 0, 1}));
            }),
            "latency_histogram: 7431 buckets listed; the scheme has 7424");
}

TEST(BenchReportRead, RefusesTotalsThatAreNotWhatTheRunsAddUpTo) {
  EXPECT_EQ(refusal_of([](json& j) { j["runs"][0]["requests"] = 6; }),
            "the runs add up to 6 requests but the report counts 7");
  EXPECT_EQ(refusal_of([](json& j) { j["errors"]["reset"] = 2; }), "the runs add up to 0 errors but the report counts 2");
  EXPECT_EQ(refusal_of([](json& j) { j["runs"][0]["bytes_sent"] = 1; }),
            "the runs add up to 1 bytes sent but the report counts 448");
  EXPECT_EQ(refusal_of([](json& j) {
              j["errors"]["reset"] = UINT64_MAX;
              j["errors"]["timeout"] = 1;
            }),
            "the errors add up to more than 2^64");
  EXPECT_EQ(refusal_of([](json& j) {
              j["runs"].push_back(j["runs"][0]);
              j["runs"][1]["requests"] = UINT64_MAX;
            }),
            "the runs' requests add up to more than 2^64");
}

TEST(BenchReportRead, RefusesMalformedMembers) {
  EXPECT_EQ(refusal_of([](json& j) { j.erase("requests"); }), "'requests' is missing");
  EXPECT_EQ(refusal_of([](json& j) { j["requests"] = "7"; }),
            "'requests' must be a whole number from 0 to 2^64-1, not string \"7\"");
  EXPECT_EQ(refusal_of([](json& j) { j["errors"]["gremlins"] = 0; }), "errors: 'gremlins' is no kind of error this sockit counts");
  EXPECT_EQ(refusal_of([](json& j) { j["runs"] = json::array(); }), "'runs' must be an array of 1 to 1024 runs");
  EXPECT_EQ(refusal_of([](json& j) { j["runs"][0]["window"]["end_unix_ns"] = 1; }),
            "runs[0]: window: the window ends before it starts");
  EXPECT_EQ(refusal_of([](json& j) { j["runs"][0]["window"]["start_unix_ns"] = UINT64_MAX; }),
            "runs[0]: window: 'start_unix_ns' must be at most 9223372036854775807, not number 18446744073709551615");
  EXPECT_EQ(refusal_of([](json& j) { j["runs"][0]["load_host"]["name"] = std::string(300, 'x'); }),
            "runs[0]: load_host: 'name' must be at most 256 bytes long, not string \"" + std::string(39, 'x') + "...");
  EXPECT_EQ(refusal_of([](json& j) { j["runs"][0]["latency_us"]["p99"] = 1e300; }),
            "runs[0]: latency_us: 'p99' of 1e+300 us is past any run's length");
  EXPECT_EQ(refusal_of([](json& j) {
              j["runs"].push_back(j["runs"][0]);
              j["requests"] = 14;
            }),
            "runs[1] is runs[0] again: it would count twice");
  EXPECT_EQ(refusal_of([](json& j) { j["client_cpu"]["seconds"] = -1; }),
            "client_cpu: 'seconds' must be a finite number >= 0, not number -1");
  EXPECT_EQ(refusal_of([](json& j) { j["http"] = {{"status_codes", {{"999", 1}}}, {"body_bytes", 0}, {"reconnects", 0}}; }),
            "http: status_codes: '999' is not an HTTP status code (100-599)");
  EXPECT_EQ(refusal_of([](json& j) { j["http"] = {{"status_codes", {{"200", 8}}}, {"body_bytes", 0}, {"reconnects", 0}}; }),
            "8 http status codes counted for 7 requests");
}

class ReportFile : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_.file(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  static std::string refusal(const std::string& path) {
    try {
      read_report_file(path);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(accepted)";
  }
  sockit::testing::TempDir dir_;
};

TEST_F(ReportFile, ReadsAReport) {
  const auto report = read_report_file(write("a.json", some_json().dump(2)));
  EXPECT_EQ(report.counters.requests, 7u);
}

TEST_F(ReportFile, RefusesAFileLargerThanAnyReportWithoutReadingIt) {
  // A report followed by a hole: nothing past the size check would be worth reading.
  const auto path = write("big.json", some_json().dump());
  ASSERT_EQ(::truncate(path.c_str(), kMaxReportBytes + 1), 0);
  EXPECT_EQ(refusal(path), "4194305 bytes: a report is at most 4194304 bytes");
  ASSERT_EQ(::truncate(path.c_str(), kMaxReportBytes), 0);
  // At the limit it is read, and the hole's NUL bytes are no JSON (nlohmann alone would stop at
  // the first and take the report before it).
  EXPECT_EQ(refusal(path), fmt::format("not JSON: a NUL byte at offset {}", some_json().dump().size()));
}

TEST_F(ReportFile, RefusesWhatIsNoRegularFile) {
  EXPECT_EQ(refusal(dir_.file("")), "not a regular file");
  EXPECT_EQ(refusal("/dev/zero"), "not a regular file");
  const auto fifo = dir_.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(refusal(fifo), "not a regular file");  // and does not wait for a writer
  EXPECT_EQ(refusal(dir_.file("missing.json")), "cannot open: No such file or directory");
}

TEST(WallWindows, TheUnionCountsOverlapsOnceAndGapsNotAtAll) {
  const auto runs = [](std::vector<std::pair<std::int64_t, std::int64_t>> windows) {
    std::vector<RunSummary> list;
    for (const auto& [start, end] : windows) {
      list.emplace_back();
      list.back().window = {start * 1'000'000'000, end * 1'000'000'000};
    }
    return list;
  };
  EXPECT_DOUBLE_EQ(union_seconds(runs({{10, 20}})), 10);
  EXPECT_DOUBLE_EQ(union_seconds(runs({{10, 20}, {15, 25}})), 15);
  EXPECT_DOUBLE_EQ(overlap_seconds(runs({{10, 20}, {15, 25}})), 5);
  EXPECT_DOUBLE_EQ(union_seconds(runs({{10, 20}, {30, 35}})), 15);
  EXPECT_DOUBLE_EQ(overlap_seconds(runs({{10, 20}, {30, 35}})), 0);
  EXPECT_DOUBLE_EQ(union_seconds(runs({{30, 35}, {10, 40}, {12, 13}})), 30);
  EXPECT_DOUBLE_EQ(overlap_seconds(runs({{30, 35}, {10, 40}, {12, 13}})), 0);
  EXPECT_DOUBLE_EQ(union_seconds(runs({{10, 20}, {20, 30}})), 20);
}

TEST(UtcText, FormatsNanosecondsSinceTheEpoch) {
  EXPECT_EQ(utc_text(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(utc_text(1'800'000'000'123'999'999), "2027-01-15T08:00:00.123Z");
  EXPECT_EQ(utc_text(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace sockit::tools
