// The tracker on Redis under every event model: a request waiting on Redis runs on a worker
// thread, so the loop goes on serving; a Redis that never answers costs its requests one
// timeout and a status 1 naming Redis.
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "cascade/redis_registry.hpp"
#include "cascade/tracker.hpp"
#include "net/byte_order.hpp"
#include "net/io.hpp"
#include "net/socket.hpp"
#include "serve/model.hpp"
#include "session_test_support.hpp"
#include "test_support.hpp"

namespace sockit::cascade {
namespace {

using namespace std::chrono_literals;
using sockit::testing::bytes_of;
using Clock = std::chrono::steady_clock;

constexpr auto kRedisTimeout = 1500ms;

struct Response {
  int status = -1;
  std::string body;
};

Response read_response(net::Socket& client) {
  std::array<std::byte, 5> head{};
  if (!net::recv_exact(client.fd(), head, net::Deadline::after(10s))) return {};
  std::string body(net::load_u32(head.data() + 1), '\0');
  if (!net::recv_exact(client.fd(), std::as_writable_bytes(std::span(body)), net::Deadline::after(10s))) return {};
  return {std::to_integer<int>(head[0]), body};
}

net::Socket send_request(const net::Address& tracker, std::span<const std::byte> request) {
  auto client = net::connect_to(tracker, 3s).value();
  net::send_all(client.fd(), request, net::Deadline::after(3s)).value();
  return client;
}

class TrackerOffload : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    model_ = serve::make_model(GetParam(), {.threads = 1, .offload = true});
    if (!model_) GTEST_SKIP() << GetParam() << " is not available on this kernel";
    RedisSettings settings;
    settings.server = silent_.local_address().value();
    settings.timeout = kRedisTimeout;
    settings.first_retry = 5s;  // the last request below comes well within the wait after a failure
    settings.longest_retry = 5s;
    registry_ = std::make_shared<RedisRegistry>(settings, "offload");
    config_.allow_any = true;
    config_.trust = TrackerTrust::message;
    config_.max_rate = 0;
    service_ = std::make_unique<TrackerService>(config_, registry_);
    run_ = std::async(std::launch::async, [this] { model_->run(listener_, *service_, serve::Limits{}, stop_); });
  }
  void TearDown() override {
    stop_.request();
    if (run_.valid()) run_.get();
  }

  sockit::testing::TempDir dir_;
  // Accepted by the kernel (its backlog), never by anyone: a Redis that never answers.
  net::Socket silent_ = net::listen_on(net::Address::unix_path(dir_.file("silent.sock")).value()).value();
  net::Socket listener_ = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  std::unique_ptr<serve::Model> model_;
  TrackerConfig config_;
  std::shared_ptr<RedisRegistry> registry_;
  std::unique_ptr<TrackerService> service_;
  serve::StopSignal stop_;
  std::future<void> run_;
};

TEST_P(TrackerOffload, AClientIsAnsweredWhileAnotherWaitsOnRedis) {
  const auto tracker = listener_.local_address().value();
  const auto subscribe = encode_tracker_request({TrackerCommand::subscribe, sha256(bytes_of("x")), {0x0a000001, 7000}});
  const auto start = Clock::now();
  auto patient = send_request(tracker, subscribe);
  std::this_thread::sleep_for(200ms);  // its request is on a worker, waiting for Redis

  auto bad = subscribe;
  bad[0] = std::byte{'X'};
  const auto hasty_start = Clock::now();
  auto hasty = send_request(tracker, bad);
  const auto refused = read_response(hasty);
  EXPECT_EQ(refused.status, 1);
  EXPECT_LT(Clock::now() - hasty_start, 700ms) << "the loop (or every worker) waited on Redis";

  const auto waited = read_response(patient);
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(waited.status, 1);
  EXPECT_TRUE(waited.body.starts_with("Redis on ")) << waited.body;
  EXPECT_NE(waited.body.find("Connection timed out"), std::string::npos) << waited.body;
  EXPECT_GE(elapsed, kRedisTimeout - 50ms);
  EXPECT_LT(elapsed, kRedisTimeout + 1s);

  // Redis is known to be down now: the next request is answered without a wait.
  const auto again = Clock::now();
  auto next = send_request(tracker, subscribe);
  EXPECT_EQ(read_response(next).status, 1);
  EXPECT_LT(Clock::now() - again, 500ms);
}

INSTANTIATE_TEST_SUITE_P(Models, TrackerOffload, ::testing::Values("select", "poll", "epoll", "uring"),
                         [](const auto& info) { return info.param; });

TEST(TrackerOnRedis, SessionsRunOffTheLoopAndInMemoryOnesOnIt) {
  sockit::testing::TempDir dir;
  RedisSettings settings;
  settings.server = net::Address::unix_path(dir.file("none.sock")).value();
  const TrackerService on_redis(TrackerConfig{}, std::make_shared<RedisRegistry>(settings, "p"));
  const TrackerService in_memory(TrackerConfig{}, std::make_shared<TrackerRegistry>());
  EXPECT_TRUE(on_redis.new_session({})->cpu_bound());
  EXPECT_FALSE(in_memory.new_session({})->cpu_bound());
}

TEST(TrackerOnRedis, ARedisThatIsDownGetsStatusOneNamingIt) {
  sockit::testing::TempDir dir;
  RedisSettings settings;
  settings.server = net::Address::unix_path(dir.file("none.sock")).value();
  TrackerConfig config;
  config.allow_any = true;
  config.max_rate = 0;
  const TrackerService service(config, std::make_shared<RedisRegistry>(settings, "p"));
  serve::SessionContext context;
  context.peer = "10.0.0.1:5000";
  auto session = service.new_session(context);
  serve::Output out;
  const auto request = encode_tracker_request({TrackerCommand::subscribe, sha256(bytes_of("x")), {0x0a000001, 7000}});
  EXPECT_EQ(sockit::testing::offer(*session, request, out), serve::Verdict::close);
  ASSERT_GE(out.size(), 5u);
  EXPECT_EQ(std::to_integer<int>(out.bytes()[0]), 1);
  EXPECT_EQ(sockit::testing::text_of(out.bytes().subspan(5)),
            "Redis on " + settings.server.to_string() + " failed: No such file or directory (connect; next try in 100 ms)");
}

}  // namespace
}  // namespace sockit::cascade
