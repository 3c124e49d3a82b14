#pragma once

// A redis-server of a test's own: a child process on a Unix socket in a temporary directory (no
// TCP port at all: --port 0), with nothing saved unless the test asks. The Redis tests skip when
// redis-server is not installed (scripts/bootstrap installs it).

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cascade/redis_connection.hpp"
#include "net/address.hpp"
#include "net/fd.hpp"
#include "test_support.hpp"

extern char** environ;

namespace sockit::testing {

class RedisTestServer {
 public:
  static constexpr std::string_view kProgram = "redis-server";

  /// True when redis-server is on PATH.
  static bool installed() {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');)
      if (!dir.empty() && ::access((std::filesystem::path(dir) / kProgram).c_str(), X_OK) == 0) return true;
    return false;
  }

  /// Starts it and waits (at most 10 s) until it answers PING; `extra` are more redis-server
  /// options ("--appendonly", "yes", ...). Throws when it does not come up.
  explicit RedisTestServer(std::vector<std::string> extra = {}) : extra_(std::move(extra)) { start(); }
  ~RedisTestServer() { stop(SIGKILL); }
  RedisTestServer(const RedisTestServer&) = delete;
  RedisTestServer& operator=(const RedisTestServer&) = delete;

  net::Address address() const { return net::Address::unix_path(socket_).value(); }
  /// Where it may keep files (--dir): an append-only file survives stop() and start().
  std::string directory() const { return dir_.file(""); }

  void start() {
    if (pid_ > 0) return;
    std::vector<std::string> args{std::string(kProgram), "--port",        "0",   "--unixsocket", socket_,
                                  "--save",              "",              "--appendonly", "no",  "--dir",
                                  dir_.file(""),         "--logfile",     dir_.file("redis.log")};
    args.insert(args.end(), extra_.begin(), extra_.end());  // later options win
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    const int failed = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (failed != 0) throw std::runtime_error("posix_spawnp redis-server: " + std::string(std::strerror(failed)));
    pid_ = pid;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (ping()) return;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("redis-server exited at once: " + log());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop(SIGKILL);
    throw std::runtime_error("redis-server did not answer PING within 10 s: " + log());
  }

  /// Signals it and reaps it (SIGKILL after 5 s): SIGTERM is a clean shutdown, SIGKILL a crash.
  void stop(int signal = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }

  /// One command on a connection of its own; throws when Redis does not answer within 2 s.
  std::unique_ptr<cascade::RedisReply> command(std::vector<std::string_view> args) const {
    auto connection = cascade::RedisConnection::open(address(), net::Deadline::after(std::chrono::seconds(2))).value();
    return connection.call(args, net::Deadline::after(std::chrono::seconds(2))).value();
  }

  std::string log() const {
    std::ifstream in(dir_.file("redis.log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  bool ping() const {
    auto connection = cascade::RedisConnection::open(address(), net::Deadline::after(std::chrono::milliseconds(200)));
    if (!connection) return false;
    const std::string_view ping[] = {"PING"};
    auto reply = connection->call(ping, net::Deadline::after(std::chrono::milliseconds(500)));
    return reply && (*reply)->string() && *(*reply)->string() == "PONG";
  }

  TempDir dir_;
  std::string socket_ = dir_.file("redis.sock");
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
};

}  // namespace sockit::testing
