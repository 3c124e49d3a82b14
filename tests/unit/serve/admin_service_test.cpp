#include "serve/admin/admin_service.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "serve/admin/admin_server.hpp"
#include "serve/admin/prometheus_text.hpp"
#include "serve/admin/rate_meter.hpp"
#include "serve/server.hpp"
#include "session_test_support.hpp"
#include "test_support.hpp"

namespace sockit::serve::admin {
namespace {

using namespace std::chrono_literals;
using testing::bytes_of;

class FakeSource : public StatusSource {
 public:
  std::string title() const override { return "fake"; }
  void metrics(PrometheusText& page) const override {
    page.family("fake_things_total", "counter", "Things.");
    page.sample("fake_things_total", {{"kind", "a\"b"}}, std::uint64_t{3});
  }
  Json status(RateMeter&) const override { return {{"connections_open", 2}, {"rows", Json::array({{{"a", 1}}})}}; }
};

class AdminSessionTest : public ::testing::Test {
 protected:
  std::string ask(std::string_view request, AdminOptions options = {}) {
    auto service = make_admin_service(source_, options);
    auto session = service->new_session({});
    Output out;
    testing::offer(*session, bytes_of(request), out);
    return std::string(out.text());
  }
  static std::string body(const std::string& response) { return response.substr(response.find("\r\n\r\n") + 4); }

  FakeSource source_;
};

TEST_F(AdminSessionTest, MetricsAreThePrometheusTextOfTheSourceAndTheProcess) {
  const auto response = ask("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9100\r\n\r\n");
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(response.find("Cache-Control: no-store\r\n"), std::string::npos);
  const auto text = body(response);
  EXPECT_NE(text.find("# TYPE fake_things_total counter\nfake_things_total{kind=\"a\\\"b\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\nprocess_resident_memory_bytes "), std::string::npos) << text;
  EXPECT_NE(text.find("\nprocess_open_fds "), std::string::npos) << text;
}

TEST_F(AdminSessionTest, StatusJsonHasTheSourcesFieldsAfterTheProcesss) {
  const auto response = ask("GET /status.json HTTP/1.1\r\nHost: localhost:9100\r\n\r\n");
  EXPECT_NE(response.find("Content-Type: application/json\r\n"), std::string::npos) << response;
  const auto status = nlohmann::json::parse(body(response));
  EXPECT_EQ(status["title"], "fake");
  EXPECT_EQ(status["connections_open"], 2);
  EXPECT_EQ(status["rows"][0]["a"], 1);
  EXPECT_GT(status["process"]["resident_bytes"].get<std::uint64_t>(), 0u);
  EXPECT_GT(status["process"]["open_fds"].get<std::uint64_t>(), 0u);
  EXPECT_GE(status["uptime_seconds"].get<double>(), 0.0);
}

TEST_F(AdminSessionTest, ThePageIsSelfContainedAndMayOnlyTalkToItsEndpoint) {
  const auto response = ask("GET / HTTP/1.1\r\nHost: [::1]:9100\r\n\r\n");
  EXPECT_NE(response.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(response.find("Content-Security-Policy: default-src 'none';"), std::string::npos);
  EXPECT_NE(response.find("connect-src 'self'"), std::string::npos);
  const auto page = body(response);
  EXPECT_NE(page.find("fetch(\"status.json\""), std::string::npos);
  for (const auto* elsewhere : {"src=\"http", "href=\"http", "src=\"//", "href=\"//", "url(", "@import"})
    EXPECT_EQ(page.find(elsewhere), std::string::npos) << "an asset from elsewhere: " << elsewhere;
  EXPECT_EQ(page.find("innerHTML"), std::string::npos) << "text from the server read as HTML";
}

TEST_F(AdminSessionTest, AHostNameFromElsewhereIsRefusedUnlessPublic) {
  const std::string request = "GET /status.json HTTP/1.1\r\nHost: attacker.example:9100\r\n\r\n";
  EXPECT_TRUE(ask(request).starts_with("HTTP/1.1 403 ")) << ask(request);
  EXPECT_TRUE(ask(request, {.loopback_hosts_only = false}).starts_with("HTTP/1.1 200 "));
}

TEST_F(AdminSessionTest, OtherPathsAre404OtherMethods405AndHeadHasNoBody) {
  EXPECT_TRUE(ask("GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
  const auto post = ask("POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(post.starts_with("HTTP/1.1 405 ")) << post;
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
  const auto head = ask("HEAD /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 "));
  EXPECT_EQ(body(head), "");
}

TEST_F(AdminSessionTest, PipelinedRequestsAreAnsweredInOrder) {
  const auto response = ask("GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto second = response.find("HTTP/1.1 200 ");
  EXPECT_TRUE(response.starts_with("HTTP/1.1 404 "));
  EXPECT_NE(second, std::string::npos);
}

TEST_F(AdminSessionTest, ABodyOrAHugeHeaderIsRefusedAndTheConnectionCloses) {
  const auto with_body = ask("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_TRUE(with_body.starts_with("HTTP/1.1 413 ")) << with_body;
  const auto huge = ask("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + std::string(10000, 'a') + "\r\n\r\n");
  EXPECT_TRUE(huge.starts_with("HTTP/1.1 431 ")) << huge;
}

TEST(AdminAddress, LoopbackOnlyUnlessPublic) {
  EXPECT_EQ(admin_address("127.0.0.1:9100", false).to_string(), "127.0.0.1:9100");
  EXPECT_EQ(admin_address("[::1]:0", false).to_string(), "[::1]:0");
  EXPECT_EQ(admin_address("localhost:9100", false).to_string(), "127.0.0.1:9100");
  EXPECT_EQ(admin_address("127.8.9.10:1", false).to_string(), "127.8.9.10:1");
  EXPECT_THROW(admin_address("0.0.0.0:9100", false), ConfigError);
  EXPECT_THROW(admin_address("[::]:9100", false), ConfigError);
  EXPECT_THROW(admin_address("192.0.2.1:9100", false), ConfigError);
  EXPECT_THROW(admin_address("example.com:9100", true), ConfigError);
  EXPECT_EQ(admin_address("0.0.0.0:9100", true).to_string(), "0.0.0.0:9100");
  try {
    admin_address("0.0.0.0:9100", false);
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--admin-public"), std::string::npos) << e.what();
  }
}

TEST(PrometheusText, EscapesAndFormatsAsTheFormatSays) {
  PrometheusText page;
  page.family("x_total", "counter", "A \\ help\nline.");
  page.sample("x_total", {{"a", "back\\slash"}, {"b", "new\nline"}}, std::uint64_t{1});
  page.sample("x_total", {}, std::numeric_limits<double>::infinity());
  EXPECT_EQ(page.text(),
            "# HELP x_total A \\\\ help\\nline.\n# TYPE x_total counter\n"
            "x_total{a=\"back\\\\slash\",b=\"new\\nline\"} 1\nx_total +Inf\n");
}

TEST(PrometheusText, AHistogramsBucketsAreCumulativeAndEndInInf) {
  PrometheusText page;
  const double bounds[] = {0.5, 1};
  const std::uint64_t counts[] = {1, 2, 3};
  page.histogram("h_seconds", {{"s", "x"}}, bounds, counts, 9.5);
  EXPECT_EQ(page.text(),
            "h_seconds_bucket{s=\"x\",le=\"0.5\"} 1\nh_seconds_bucket{s=\"x\",le=\"1\"} 3\n"
            "h_seconds_bucket{s=\"x\",le=\"+Inf\"} 6\nh_seconds_sum{s=\"x\"} 9.5\nh_seconds_count{s=\"x\"} 6\n");
}

TEST(RateMeter, ARateIsTheGrowthOverTheLastWholeWindow) {
  RateMeter rates(1s);
  const auto t0 = RateMeter::Clock::now();
  EXPECT_EQ(rates.rate("k", 100, t0), 0);
  EXPECT_EQ(rates.rate("k", 150, t0 + 500ms), 0) << "no window has passed";
  EXPECT_DOUBLE_EQ(rates.rate("k", 300, t0 + 2s), 100);
  EXPECT_DOUBLE_EQ(rates.rate("k", 999, t0 + 2500ms), 100) << "the same until the next window ends";
  EXPECT_DOUBLE_EQ(rates.rate("k", 1300, t0 + 3s), 1000);
  EXPECT_DOUBLE_EQ(rates.rate("k", 5, t0 + 4s), 0) << "a counter that went back";
}

TEST(RateMeter, BucketGrowthIsPerBucketOverTheLastWindow) {
  RateMeter rates(1s);
  const auto t0 = RateMeter::Clock::now();
  const std::uint64_t first[] = {1, 1}, second[] = {4, 1};
  EXPECT_EQ(rates.growth("h", first, t0), (std::vector<std::uint64_t>{0, 0}));
  EXPECT_EQ(rates.growth("h", second, t0 + 1s), (std::vector<std::uint64_t>{3, 0}));
}

}  // namespace
}  // namespace sockit::serve::admin
