// The event-driven TCP models (select, poll, epoll, uring) over real loopback sockets: each test
// runs a model in a thread on a port-0 listener and talks to it with plain client sockets.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/select.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "net/io.hpp"
#include "net/options.hpp"
#include "net/socket.hpp"
#include "serve/model.hpp"
#include "serve/services/services.hpp"
#include "test_support.hpp"

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using sockit::testing::bytes_of;
using sockit::testing::eventually;
using sockit::testing::open_fd_count;
using sockit::testing::settled_fd_count;
using sockit::testing::TightDescriptorLimit;

// ---- Test-only services --------------------------------------------------------------------

/// Echo that counts what its sessions received, so a test can see how far the server ran ahead
/// of a slow reader.
class CountingEcho : public Service {
 public:
  std::string_view name() const noexcept override { return "counting-echo"; }
  std::unique_ptr<Session> new_session(const SessionContext&) const override {
    class S : public Session {
     public:
      explicit S(std::atomic<std::size_t>& received) : received_(received) {}
      Taken receive(std::span<const std::byte> in, Output& out) override {
        const auto take = std::min(in.size(), out.room());
        received_ += take;
        out.append(in.first(take));
        return {take};
      }

     private:
      std::atomic<std::size_t>& received_;
    };
    return std::make_unique<S>(received_);
  }
  mutable std::atomic<std::size_t> received_{0};
};

/// Line service declaring itself CPU-bound: "slow" takes 2 s (standing in for recursive fib),
/// anything else is answered at once. Records whether two threads ever entered one session.
class SlowLines : public Service {
 public:
  std::string_view name() const noexcept override { return "slow-lines"; }
  std::unique_ptr<Session> new_session(const SessionContext&) const override {
    class S : public Session {
     public:
      S(std::atomic<bool>& overlapped, std::atomic<int>& started) : overlapped_(overlapped), started_(started) {}
      bool cpu_bound() const noexcept override { return true; }
      Taken receive(std::span<const std::byte> in, Output& out) override {
        if (inside_.exchange(true)) overlapped_ = true;
        line_.append(reinterpret_cast<const char*>(in.data()), in.size());
        for (auto end = line_.find('\n'); end != std::string::npos; end = line_.find('\n')) {
          const std::string request = line_.substr(0, end);
          line_.erase(0, end + 1);
          if (request == "slow") {
            ++started_;
            std::this_thread::sleep_for(2s);
          }
          out.append(request + " done\n");
        }
        inside_ = false;
        return {in.size()};
      }

     private:
      std::atomic<bool>& overlapped_;
      std::atomic<int>& started_;
      std::atomic<bool> inside_{false};
      std::string line_;
    };
    return std::make_unique<S>(overlapped_, started_);
  }
  /// Waits (bounded) until a "slow" request is being computed.
  bool slow_request_started() const {
    const auto deadline = Clock::now() + 5s;
    while (started_.load() == 0 && Clock::now() < deadline) std::this_thread::sleep_for(2ms);
    return started_.load() > 0;
  }
  mutable std::atomic<bool> overlapped_{false};
  mutable std::atomic<int> started_{0};
};

/// An endless producer like chargen: each writable() adds 4 KiB of a counting pattern.
class Producer : public Service {
 public:
  std::string_view name() const noexcept override { return "producer"; }
  bool produces_without_input() const noexcept override { return true; }
  std::unique_ptr<Session> new_session(const SessionContext&) const override {
    class S : public Session {
     public:
      Taken receive(std::span<const std::byte> in, Output&) override { return {in.size()}; }
      Verdict writable(Output& out) override {
        std::string chunk(4096, '\0');
        for (auto& c : chunk) c = static_cast<char>(next_++ % 251);
        out.append(chunk);
        return Verdict::keep_going;
      }

     private:
      std::size_t next_ = 0;
    };
    return std::make_unique<S>();
  }
};

/// Lines answered in upper case; a line longer than SessionContext::max_line gets an error
/// and closes; "quit" closes after its answer.
class Lines : public Service {
 public:
  std::string_view name() const noexcept override { return "lines"; }
  std::unique_ptr<Session> new_session(const SessionContext& context) const override {
    class S : public Session {
     public:
      explicit S(std::size_t max_line) : max_line_(max_line) {}
      Taken receive(std::span<const std::byte> in, Output& out) override {
        return {in.size(), lines(in, out)};
      }

     private:
      Verdict lines(std::span<const std::byte> in, Output& out) {
        line_.append(reinterpret_cast<const char*>(in.data()), in.size());
        for (auto end = line_.find('\n'); end != std::string::npos; end = line_.find('\n')) {
          std::string request = line_.substr(0, end);
          line_.erase(0, end + 1);
          if (request.size() > max_line_) return too_long(out);
          if (request == "quit") {
            out.append("bye\n");
            return Verdict::close;
          }
          std::transform(request.begin(), request.end(), request.begin(), [](unsigned char c) { return std::toupper(c); });
          out.append(request + "\n");
        }
        return line_.size() > max_line_ ? too_long(out) : Verdict::keep_going;
      }
      Verdict too_long(Output& out) {
        out.append("ERR line too long (max " + std::to_string(max_line_) + " bytes)\n");
        return Verdict::close;
      }
      std::size_t max_line_;
      std::string line_;
    };
    return std::make_unique<S>(context.max_line);
  }
};

// ---- A model running in a thread -----------------------------------------------------------

class Server {
 public:
  Server(const std::string& model, const Service& service, Limits limits, unsigned threads = 2, bool offload = true)
      : log_file_(std::tmpfile()),
        log_(log_file_, false),
        model_(make_model(model, {.threads = threads, .offload = offload, .log = &log_})),
        listener_(net::listen_on(net::Address::loopback(AF_INET, 0)).value()),
        address_(listener_.local_address().value()),
        limits_(limits) {
    run_ = std::async(std::launch::async, [this, &service] { model_->run(listener_, service, limits_, stop_); });
  }
  ~Server() {
    stop_.request();
    try {
      if (run_.valid()) run_.get();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the model's run() threw: " << e.what();
    }
    std::fclose(log_file_);
  }

  const net::Address& address() const { return address_; }
  /// Requests stop; true if run() returned within `limit`.
  bool stop_within(std::chrono::milliseconds limit) {
    stop_.request();
    const bool returned = run_.wait_for(limit) == std::future_status::ready;
    if (returned) run_.get();
    return returned;
  }
  std::string log_text() const {
    std::string text(1 << 16, '\0');
    const auto n = ::pread(::fileno(log_file_), text.data(), text.size(), 0);
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return text;
  }

 private:
  std::FILE* log_file_;
  Log log_;
  std::unique_ptr<Model> model_;
  StopSignal stop_;
  net::Socket listener_;
  net::Address address_;
  Limits limits_;
  std::future<void> run_;
};

net::Socket connect_client(const net::Address& address) { return net::connect_to(address, 3s).value(); }

void send_text(const net::Socket& s, std::string_view text) {
  net::send_all(s.fd(), bytes_of(text), net::Deadline::after(5s)).value();
}

std::string recv_text(const net::Socket& s, std::size_t n, std::chrono::milliseconds timeout = 5s) {
  std::string text(n, '\0');
  net::recv_exact(s.fd(), std::as_writable_bytes(std::span(text.data(), text.size())), net::Deadline::after(timeout))
      .value();
  return text;
}

/// True if the server closed (EOF or reset) within `timeout`; false if the socket stayed open.
bool closed_by_server(const net::Socket& s, std::chrono::milliseconds timeout = 5s) {
  std::byte scratch[256];
  const auto deadline = net::Deadline::after(timeout);
  for (;;) {
    auto got = net::recv_some(s.fd(), scratch, deadline);
    if (!got) return !got.error().timed_out();
    if (*got == 0) return true;
  }
}

class EventModel : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!make_model(GetParam(), {})) GTEST_SKIP() << GetParam() << " is not available on this machine or build";
  }
  const std::string& model() const { return GetParam(); }
  std::unique_ptr<Service> echo_ = services::make_echo_tcp({});
};

// ---- The claims ----------------------------------------------------------------------------

TEST_P(EventModel, EchoesBinaryDataWithNulBytesSplitAcrossWrites) {
  Server server(model(), *echo_, {});
  auto client = connect_client(server.address());
  const std::string data("\0\xff\x01 binary\0\r\n\0", 14);
  send_text(client, data.substr(0, 3));
  std::this_thread::sleep_for(10ms);  // let the first part arrive alone: a short read on purpose
  send_text(client, data.substr(3));
  EXPECT_EQ(recv_text(client, data.size()), data);
}

TEST_P(EventModel, Serves50ConcurrentClients) {
  Server server(model(), *echo_, {});
  std::vector<net::Socket> clients;
  for (int i = 0; i < 50; ++i) clients.push_back(connect_client(server.address()));
  for (int i = 0; i < 50; ++i) send_text(clients[static_cast<std::size_t>(i)], "client " + std::to_string(i) + " ");
  for (int i = 0; i < 50; ++i) send_text(clients[static_cast<std::size_t>(i)], "says hello\n");
  for (int i = 0; i < 50; ++i) {
    const std::string expected = "client " + std::to_string(i) + " says hello\n";
    EXPECT_EQ(recv_text(clients[static_cast<std::size_t>(i)], expected.size()), expected);
  }
}

TEST_P(EventModel, Answers300ClientsWhoseRequestsArriveTogether) {
  // More requests at once than uring's 128 provided buffers: some recvs find none and retry.
  Server server(model(), *echo_, {}, 1);
  std::vector<net::Socket> clients;
  for (int i = 0; i < 300; ++i) clients.push_back(connect_client(server.address()));
  const std::string request(4000, 'q');
  for (auto& client : clients) send_text(client, request);
  for (auto& client : clients) ASSERT_EQ(recv_text(client, request.size()), request);
}

TEST_P(EventModel, EchoesTwentyMegabytesToASlowReaderWithoutBufferingThemAll) {
  CountingEcho counting;
  Limits limits;
  limits.high_water = 256 * 1024;
  Server server(model(), counting, limits);
  auto client = connect_client(server.address());

  std::string data(20 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 251);
  auto writer = std::async(std::launch::async, [&] { return net::send_all(client.fd(), bytes_of(data), net::Deadline::after(30s)); });

  // The reader is slow to start: a server without back-pressure would read everything now.
  std::this_thread::sleep_for(300ms);
  const std::size_t ran_ahead = counting.received_.load();

  std::string echoed(data.size(), '\0');
  std::size_t got = 0;
  std::size_t widest_gap = 0;
  while (got < echoed.size()) {
    auto n = net::recv_some(client.fd(), std::as_writable_bytes(std::span(echoed.data() + got, echoed.size() - got)),
                            net::Deadline::after(10s));
    ASSERT_TRUE(n) << n.error().what();
    ASSERT_GT(*n, 0u) << "early EOF after " << got << " bytes";
    got += *n;
    widest_gap = std::max(widest_gap, counting.received_.load() - got);
  }
  ASSERT_TRUE(writer.get());
  EXPECT_TRUE(echoed == data) << "echoed bytes differ";
  // What the server holds is at most high water plus one read; the rest of the gap sits in the
  // kernel's socket buffers (loopback autotunes them up to tcp_wmem/tcp_rmem's maximum, some MB).
  const std::size_t kernel_buffers = 12 << 20;
  EXPECT_LT(ran_ahead, limits.high_water + (64 << 10) + kernel_buffers);
  EXPECT_LT(widest_gap, limits.high_water + (64 << 10) + kernel_buffers);
  EXPECT_LT(ran_ahead, data.size() / 2) << "the server read on while the client did not";
  RecordProperty("ran_ahead_bytes", std::to_string(ran_ahead));
  RecordProperty("widest_gap_bytes", std::to_string(widest_gap));
}

TEST_P(EventModel, SlowCpuBoundRequestDoesNotDelayAnotherClient) {
  SlowLines slow;
  Server server(model(), slow, {});
  auto patient = connect_client(server.address());
  send_text(patient, "slow\n");
  ASSERT_TRUE(slow.slow_request_started());

  auto hasty = connect_client(server.address());
  const auto start = Clock::now();
  send_text(hasty, "quick\n");
  EXPECT_EQ(recv_text(hasty, 11), "quick done\n");
  const auto waited = Clock::now() - start;
  EXPECT_LT(waited, 1s) << "the fast client waited for the slow one";
  RecordProperty("fast_client_us", std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(waited).count()));
  EXPECT_EQ(recv_text(patient, 10), "slow done\n");
}

TEST_P(EventModel, WithoutOffloadTheSlowRequestStallsTheLoopForEveryone) {
  SlowLines slow;
  Server server(model(), slow, {}, 1, /*offload=*/false);
  auto patient = connect_client(server.address());
  send_text(patient, "slow\n");
  ASSERT_TRUE(slow.slow_request_started());

  auto hasty = connect_client(server.address());  // the kernel completes the handshake meanwhile
  const auto start = Clock::now();
  send_text(hasty, "quick\n");
  EXPECT_EQ(recv_text(hasty, 11), "quick done\n");
  EXPECT_GT(Clock::now() - start, 1s) << "the one loop answered while it was computing the slow request";
  EXPECT_EQ(recv_text(patient, 10), "slow done\n");
}

// Every endpoint on the same single loop: a client of one service waits for a CPU-bound request
// of another unless that request runs on a worker.
TEST_P(EventModel, RunAllServesEveryEndpointFromTheSameLoop) {
  for (const bool offload : {true, false}) {
    SCOPED_TRACE(offload ? "offload" : "no offload");
    SlowLines slow;
    auto design = make_model(model(), {.threads = 1, .offload = offload});
    auto slow_listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
    auto echo_listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
    const Endpoint endpoints[] = {{slow_listener, slow}, {echo_listener, *echo_}};
    StopSignal stop;
    auto run = std::async(std::launch::async, [&] { design->run_all(endpoints, Limits{}, stop); });

    auto patient = connect_client(slow_listener.local_address().value());
    send_text(patient, "slow\n");
    ASSERT_TRUE(slow.slow_request_started());
    auto hasty = connect_client(echo_listener.local_address().value());
    const auto start = Clock::now();
    send_text(hasty, "hi");
    EXPECT_EQ(recv_text(hasty, 2), "hi");
    const auto waited = Clock::now() - start;
    if (offload)
      EXPECT_LT(waited, 1s) << "the echo client waited for the other service's slow request";
    else
      EXPECT_GT(waited, 1s) << "without offload the one loop should have been busy computing";
    EXPECT_EQ(recv_text(patient, 10), "slow done\n");
    patient.close();
    hasty.close();
    stop.request();
    run.get();
  }
}

TEST_P(EventModel, InputArrivingWhileTheSessionIsOnAWorkerWaitsItsTurn) {
  SlowLines slow;
  Server server(model(), slow, {});
  auto client = connect_client(server.address());
  send_text(client, "slow\n");
  ASSERT_TRUE(slow.slow_request_started());
  send_text(client, "a\nb\n");
  EXPECT_EQ(recv_text(client, 17), "slow done\na done\n");
  EXPECT_EQ(recv_text(client, 7), "b done\n");
  EXPECT_FALSE(slow.overlapped_.load()) << "the session was called from two threads at once";
}

TEST_P(EventModel, ProducerIsAskedForMoreOnlyAsTheClientReads) {
  Producer producer;
  Server server(model(), producer, {});
  auto client = connect_client(server.address());
  const std::string got = recv_text(client, 1 << 20);
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(static_cast<unsigned char>(got[i]), i % 251) << "at byte " << i;
}

TEST_P(EventModel, LineLongerThanMaxLineGetsAnErrorThenTheConnectionCloses) {
  Lines lines;
  Limits limits;
  limits.max_line = 16;
  Server server(model(), lines, limits);
  auto client = connect_client(server.address());
  send_text(client, "short\n");
  EXPECT_EQ(recv_text(client, 6), "SHORT\n");
  send_text(client, std::string(40, 'x') + "\n");
  const std::string error = "ERR line too long (max 16 bytes)\n";
  EXPECT_EQ(recv_text(client, error.size()), error);
  EXPECT_TRUE(closed_by_server(client));
}

TEST_P(EventModel, CloseVerdictIsHonouredAfterTheAnswerIsSent) {
  Lines lines;
  Server server(model(), lines, {});
  auto client = connect_client(server.address());
  send_text(client, "hi\nquit\nignored\n");
  EXPECT_EQ(recv_text(client, 7), "HI\nbye\n");
  EXPECT_TRUE(closed_by_server(client));
}

TEST_P(EventModel, EndOfInputFlushesThenCloses) {
  Server server(model(), *echo_, {});
  auto client = connect_client(server.address());
  send_text(client, "last words");
  client.shutdown(SHUT_WR).value();
  EXPECT_EQ(recv_text(client, 10), "last words");
  EXPECT_TRUE(closed_by_server(client));
}

TEST_P(EventModel, ClientResettingMidReplyEndsOnlyItsConnection) {
  Server server(model(), *echo_, {});
  auto bystander = connect_client(server.address());
  {
    auto rude = connect_client(server.address());
    send_text(rude, std::string(1 << 20, 'r'));  // the echo of this is still on its way back
    net::set_linger(rude.fd(), std::chrono::seconds(0)).value();  // close() sends RST
  }
  send_text(bystander, "still there?");
  EXPECT_EQ(recv_text(bystander, 12), "still there?");
  auto newcomer = connect_client(server.address());
  send_text(newcomer, "hi");
  EXPECT_EQ(recv_text(newcomer, 2), "hi");
}

TEST_P(EventModel, IdleTimeoutClosesASilentClient) {
  Limits limits;
  limits.idle_timeout = 200ms;
  Server server(model(), *echo_, limits);
  auto silent = connect_client(server.address());
  const auto start = Clock::now();
  EXPECT_TRUE(closed_by_server(silent, 3s));
  EXPECT_GE(Clock::now() - start, 150ms);
  // uring shuts the socket down first and logs once its pending recv has come back.
  EXPECT_TRUE(eventually([&] { return server.log_text().find("idle") != std::string::npos; })) << server.log_text();
}

TEST_P(EventModel, MaxConnsClosesTheClientBeyondItAndServesAgainLater) {
  Limits limits;
  limits.max_conns = 2;
  Server server(model(), *echo_, limits);
  auto first = connect_client(server.address());
  auto second = connect_client(server.address());
  send_text(first, "1");
  send_text(second, "2");
  EXPECT_EQ(recv_text(first, 1), "1");
  EXPECT_EQ(recv_text(second, 1), "2");

  auto third = connect_client(server.address());
  EXPECT_TRUE(closed_by_server(third));
  EXPECT_NE(server.log_text().find("max-conns"), std::string::npos) << server.log_text();

  first.close();
  EXPECT_TRUE(eventually([&] {
    auto again = connect_client(server.address());
    if (!net::send_all(again.fd(), bytes_of("x"), net::Deadline::after(1s))) return false;
    std::byte reply[1];
    return net::recv_exact(again.fd(), reply, net::Deadline::after(1s)).has_value();
  }));
}

TEST_P(EventModel, StopWithAConnectedClientReturnsWithinTheGracePeriod) {
  Limits limits;
  limits.grace_period = 300ms;
  auto server = std::make_unique<Server>(model(), *echo_, limits);
  auto client = connect_client(server->address());
  send_text(client, "ping");
  EXPECT_EQ(recv_text(client, 4), "ping");
  const auto start = Clock::now();
  EXPECT_TRUE(server->stop_within(3s));
  EXPECT_GE(Clock::now() - start, 250ms) << "in-flight clients get the grace period";
  EXPECT_TRUE(closed_by_server(client));
}

TEST_P(EventModel, StopLetsAnInFlightCpuBoundRequestFinish) {
  SlowLines slow;
  Limits limits;
  limits.grace_period = 3s;
  Server server(model(), slow, limits);
  auto client = connect_client(server.address());
  send_text(client, "slow\n");
  ASSERT_TRUE(slow.slow_request_started());
  client.shutdown(SHUT_WR).value();  // the client is done asking: the connection ends after the answer
  EXPECT_TRUE(server.stop_within(3s));
  EXPECT_EQ(recv_text(client, 10), "slow done\n");
}

TEST_P(EventModel, LeaksNoDescriptorAfter500Connections) {
  Server server(model(), *echo_, {});
  {
    auto warm = connect_client(server.address());  // lazily made resources exist from here on
    send_text(warm, "w");
    EXPECT_EQ(recv_text(warm, 1), "w");
  }
  ASSERT_TRUE(eventually([&] { return server.log_text().find("closed") != std::string::npos; }));
  const int before = open_fd_count();
  for (int i = 0; i < 500; ++i) {
    auto client = connect_client(server.address());
    send_text(client, "x");
    ASSERT_EQ(recv_text(client, 1), "x");
  }
  EXPECT_TRUE(eventually([&] { return open_fd_count() == before; })) << open_fd_count() << " open, " << before << " before";
}

TEST_P(EventModel, ThousandIdleConnectionsDoNotDelayANewClient) {
  if (model() == "select") GTEST_SKIP() << "select cannot watch 2000 descriptors (FD_SETSIZE)";
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 2100 && limit.rlim_max >= 2100) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur < 2100) GTEST_SKIP() << "RLIMIT_NOFILE is below 2100";

  Server server(model(), *echo_, {});
  std::vector<net::Socket> idle;
  for (int i = 0; i < 1000; ++i) idle.push_back(connect_client(server.address()));
  // Every idle client has been accepted once a client connected after them is served.
  auto probe = connect_client(server.address());
  send_text(probe, "p");
  EXPECT_EQ(recv_text(probe, 1), "p");

  auto client = connect_client(server.address());
  const auto start = Clock::now();
  send_text(client, "new");
  EXPECT_EQ(recv_text(client, 3), "new");
  const auto waited = Clock::now() - start;
  EXPECT_LT(waited, 500ms);
  RecordProperty("new_client_us", std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(waited).count()));
}

TEST_P(EventModel, RunningOutOfDescriptorsOnAcceptNeitherStopsNorBlocksTheServer) {
  // The limit is in force before the server starts, as with `ulimit -n` (io_uring reads it when
  // the accept is armed, not at each accept).
  TightDescriptorLimit limit(64);
  ASSERT_TRUE(limit.ok());
  Server server(model(), *echo_, {});
  {
    auto warm = connect_client(server.address());
    send_text(warm, "w");
    EXPECT_EQ(recv_text(warm, 1), "w");
  }
  // The server's end of the warm-up connection must be closed before the table is filled.
  ASSERT_TRUE(eventually([&] { return server.log_text().find("closed") != std::string::npos; }));
  auto filler = sockit::testing::take_every_descriptor();
  filler.pop_back();  // one descriptor left: the client's socket; the server's accept gets EMFILE
  auto refused = net::connect_to(server.address(), 3s);
  ASSERT_TRUE(refused) << refused.error().what();
  EXPECT_TRUE(closed_by_server(*refused));
  refused->close();
  filler.clear();

  auto client = connect_client(server.address());
  send_text(client, "back");
  EXPECT_EQ(recv_text(client, 4), "back");
  EXPECT_NE(server.log_text().find("Too many open files"), std::string::npos) << server.log_text();
}

TEST_P(EventModel, LogsConnectedAndClosedWithTheRequestCount) {
  Server server(model(), *echo_, {});
  {
    auto client = connect_client(server.address());
    send_text(client, "a");
    EXPECT_EQ(recv_text(client, 1), "a");
    send_text(client, "b");
    EXPECT_EQ(recv_text(client, 1), "b");
  }
  EXPECT_TRUE(eventually([&] { return server.log_text().find("after 2 requests") != std::string::npos; }))
      << server.log_text();
  EXPECT_NE(server.log_text().find("connected 127.0.0.1:"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Models, EventModel, ::testing::Values("select", "poll", "epoll", "uring"),
                         [](const auto& info) { return info.param; });

TEST(SelectModel, RefusesADescriptorBeyondFdSetsizeAndKeepsServing) {
  auto echo = services::make_echo_tcp({});
  Server server("select", *echo, {});
  {
    auto warm = connect_client(server.address());  // the loop has its descriptors from here on
    send_text(warm, "w");
    EXPECT_EQ(recv_text(warm, 1), "w");
  }
  // The server's end of `warm` must be closed first: closed later, it would leave a free
  // descriptor below FD_SETSIZE for the next client (a loaded machine did that).
  EXPECT_TRUE(eventually([&] { return server.log_text().find("closed 127.0.0.1:") != std::string::npos; }));
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < FD_SETSIZE + 16) GTEST_SKIP() << "RLIMIT_NOFILE is below FD_SETSIZE";
  std::vector<net::Fd> filler;  // the next descriptors are all >= FD_SETSIZE
  for (int n = settled_fd_count(); n < FD_SETSIZE + 4; ++n) filler.emplace_back(::dup(0));
  auto client = connect_client(server.address());
  EXPECT_TRUE(closed_by_server(client));
  EXPECT_NE(server.log_text().find("FD_SETSIZE"), std::string::npos) << server.log_text();
  client.close();
  filler.clear();
  auto served = connect_client(server.address());
  send_text(served, "ok");
  EXPECT_EQ(recv_text(served, 2), "ok");
}

}  // namespace
}  // namespace sockit::serve
