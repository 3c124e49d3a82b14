// What every model guarantees, blocking or event-driven. Session's contract: a client that
// pipelines requests and stops reading stops the session (the answers it gets plateau far below
// what it asked for), and once it reads again every answer arrives, in order, file ranges
// included. And a session that throws ends its own connection, never the server.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include "net/io.hpp"
#include "net/options.hpp"
#include "net/socket.hpp"
#include "serve/log.hpp"
#include "serve/model.hpp"
#include "test_support.hpp"

namespace sockit::serve {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kAnswerBytes = 64 * 1024;  // each answer's file range
constexpr std::size_t kRequests = 600;

/// A counter that forked children can update too.
class SharedCounter {
 public:
  SharedCounter()
      : value_(static_cast<std::atomic<std::size_t>*>(
            ::mmap(nullptr, sizeof(std::atomic<std::size_t>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0))) {
    new (value_) std::atomic<std::size_t>(0);
  }
  ~SharedCounter() { ::munmap(value_, sizeof(std::atomic<std::size_t>)); }
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;
  std::atomic<std::size_t>& operator*() const { return *value_; }

 private:
  std::atomic<std::size_t>* value_;
};

/// Each line "N" is answered with "N:" and 64 KiB of a file from offset N % 256: what the block
/// server and the HTTP service do, as a test service that counts its answers.
class FileAnswers : public Service {
 public:
  explicit FileAnswers(bool cpu_bound)
      : cpu_bound_(cpu_bound), file_(std::make_shared<const net::Fd>(::memfd_create("answers", MFD_CLOEXEC))) {
    for (std::size_t i = 0; i < kAnswerBytes + 256; ++i) content_ += static_cast<char>('a' + i % 26);
    EXPECT_EQ(::write(file_->get(), content_.data(), content_.size()), static_cast<ssize_t>(content_.size()));
  }
  std::string_view name() const noexcept override { return "file-answers"; }
  std::unique_ptr<Session> new_session(const SessionContext&) const override {
    return std::make_unique<S>(*this);
  }
  std::size_t answered() const { return (*answered_).load(); }
  std::string expected(std::size_t n) const {
    return std::to_string(n) + ":" + content_.substr(n % 256, kAnswerBytes);
  }

 private:
  class S : public Session {
   public:
    explicit S(const FileAnswers& service) : service_(service) {}
    bool cpu_bound() const noexcept override { return service_.cpu_bound_; }
    Taken receive(std::span<const std::byte> in, Output& out) override {
      std::size_t taken = 0;
      while (taken < in.size()) {
        if (out.full()) return {taken};
        const auto c = static_cast<char>(in[taken++]);
        if (c != '\n') {
          line_ += c;
          continue;
        }
        std::size_t n = 0;
        std::from_chars(line_.data(), line_.data() + line_.size(), n);
        line_.clear();
        out.append(std::to_string(n) + ":");
        out.append(FileRange{service_.file_, n % 256, kAnswerBytes});
        ++*service_.answered_;
      }
      return {taken};
    }

   private:
    const FileAnswers& service_;
    std::string line_;
  };

  bool cpu_bound_;
  std::shared_ptr<const net::Fd> file_;
  std::string content_;
  SharedCounter answered_;
};

class BoundedModel : public ::testing::TestWithParam<std::tuple<std::string, bool>> {
 protected:
  void SetUp() override {
    if (!make_model(model(), {})) GTEST_SKIP() << model() << " is not available on this machine or build";
  }
  const std::string& model() const { return std::get<0>(GetParam()); }
  bool cpu_bound() const { return std::get<1>(GetParam()); }
};

TEST_P(BoundedModel, AClientThatStopsReadingStopsItsSessionAndThenGetsEveryAnswerInOrder) {
  FileAnswers service(cpu_bound());
  auto model_ = make_model(model(), {.threads = 1});
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  Limits limits;
  limits.high_water = 128 * 1024;
  limits.low_water = 32 * 1024;
  limits.grace_period = 1s;
  StopSignal stop;
  auto run = std::async(std::launch::async, [&] { model_->run(listener, service, limits, stop); });

  auto client = net::Socket::create(AF_INET, SOCK_STREAM).value();
  net::set_receive_buffer(client.fd(), 16 * 1024).value();  // no autotuning: a small window
  client.connect(listener.local_address().value(), net::Deadline::after(5s)).value();
  std::string requests;
  for (std::size_t i = 0; i < kRequests; ++i) requests += std::to_string(i) + "\n";
  net::send_all(client.fd(), net::as_bytes(requests), net::Deadline::after(5s)).value();

  // Not reading: the answers plateau once the socket buffers and the budget are full.
  std::size_t before = 0;
  std::size_t now = service.answered();
  for (auto deadline = Clock::now() + 10s; Clock::now() < deadline && (now != before || now == 0);) {
    before = now;
    std::this_thread::sleep_for(300ms);
    now = service.answered();
  }
  EXPECT_EQ(now, before) << "the session went on answering a client that does not read";
  EXPECT_LT(now, kRequests / 2) << "it answered far ahead of the client";

  std::string answer;
  for (std::size_t i = 0; i < kRequests; ++i) {
    const auto expected = service.expected(i);
    answer.resize(expected.size());
    net::recv_exact(client.fd(), std::as_writable_bytes(std::span(answer)), net::Deadline::after(10s)).value();
    ASSERT_EQ(answer, expected) << "answer " << i;
  }
  EXPECT_EQ(service.answered(), kRequests);
  stop.request();
  run.get();
}

/// Echoes lines; the line "boom" throws.
class Throwing : public Service {
 public:
  std::string_view name() const noexcept override { return "throwing"; }
  std::unique_ptr<Session> new_session(const SessionContext&) const override {
    class S : public Session {
     public:
      Taken receive(std::span<const std::byte> in, Output& out) override {
        line_.append(reinterpret_cast<const char*>(in.data()), in.size());
        for (auto end = line_.find('\n'); end != std::string::npos; end = line_.find('\n')) {
          if (line_.compare(0, end, "boom") == 0) throw std::runtime_error("boom");
          out.append(line_.substr(0, end + 1));
          line_.erase(0, end + 1);
        }
        return {in.size()};
      }

     private:
      std::string line_;
    };
    return std::make_unique<S>();
  }
};

class EveryModel : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!make_model(GetParam(), {})) GTEST_SKIP() << GetParam() << " is not available on this machine or build";
  }
};

TEST_P(EveryModel, ASessionThatThrowsIsLoggedAndEndsOnlyItsConnection) {
  Throwing service;
  std::FILE* log_file = std::tmpfile();
  Log log(log_file, false);
  auto model = make_model(GetParam(), {.threads = 1, .log = &log});
  auto listener = net::listen_on(net::Address::loopback(AF_INET, 0)).value();
  const auto address = listener.local_address().value();
  Limits limits;
  limits.grace_period = 1s;
  StopSignal stop;
  auto run = std::async(std::launch::async, [&] { model->run(listener, service, limits, stop); });

  auto victim = net::connect_to(address, 5s).value();
  net::send_all(victim.fd(), net::as_bytes("boom\n")).value();
  std::byte byte[1];
  auto end = net::recv_some(victim.fd(), byte, net::Deadline::after(5s));
  EXPECT_TRUE(!end || *end == 0) << "the connection stayed open";

  auto other = net::connect_to(address, 5s).value();
  net::send_all(other.fd(), net::as_bytes("still here\n")).value();
  std::string reply(11, '\0');
  net::recv_exact(other.fd(), std::as_writable_bytes(std::span(reply)), net::Deadline::after(5s)).value();
  EXPECT_EQ(reply, "still here\n");
  other.close();
  stop.request();
  run.get();

  std::string text(1 << 16, '\0');
  text.resize(static_cast<std::size_t>(std::max<ssize_t>(0, ::pread(::fileno(log_file), text.data(), text.size(), 0))));
  std::fclose(log_file);
  EXPECT_NE(text.find("failed: boom"), std::string::npos) << text;
}

INSTANTIATE_TEST_SUITE_P(AllModels, EveryModel,
                         ::testing::Values("iterative", "fork", "thread", "pool", "select", "poll", "epoll", "uring"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(AllModels, BoundedModel,
                         ::testing::Combine(::testing::Values("iterative", "fork", "thread", "pool", "select", "poll",
                                                              "epoll", "uring"),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return std::get<0>(info.param) + (std::get<1>(info.param) ? "_offloaded" : "");
                         });

}  // namespace
}  // namespace sockit::serve
