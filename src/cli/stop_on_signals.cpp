#include "cli/stop_on_signals.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "net/error.hpp"

namespace sockit::cli {
namespace {

constexpr char kSignal = 's';  // a handler ran
constexpr char kQuit = 'q';    // the destructor: the watcher ends

// The process's signal pipe, made on first use and never closed: see the class comment.
struct SignalPipe {
  int read_end = -1;
  int write_end = -1;
};

const SignalPipe& signal_pipe() {
  static const SignalPipe pipe = [] {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) < 0) throw net::errno_error("pipe2");
    return SignalPipe{ends[0], ends[1]};
  }();
  return pipe;
}

int g_write_end = -1;  // set before any handler is installed
struct sigaction g_old_int {};
struct sigaction g_old_term {};
struct sigaction g_old_pipe {};

extern "C" void on_stop_signal(int) {
  const int saved = errno;  // a handler must leave errno as it found it
  [[maybe_unused]] const auto n = ::write(g_write_end, &kSignal, 1);  // a full pipe has a stop pending already
  errno = saved;
}

// Reads the pipe until the destructor says quit; requests the stop for every signal.
void watch(int read_end, serve::StopSignal& stop) {
  for (;;) {
    pollfd ready{read_end, POLLIN, 0};
    if (::poll(&ready, 1, -1) < 0 && errno != EINTR) return;
    char bytes[64];
    const auto n = ::read(read_end, bytes, sizeof bytes);
    for (ssize_t i = 0; i < n; ++i) {
      if (bytes[i] == kQuit) return;
      stop.request();
    }
  }
}

}  // namespace

StopOnSignals::StopOnSignals(serve::StopSignal& stop) {
  const auto& pipe = signal_pipe();
  char stale[64];
  while (::read(pipe.read_end, stale, sizeof stale) > 0) {
  }
  g_write_end = pipe.write_end;
  watcher_ = std::thread(watch, pipe.read_end, std::ref(stop));
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &g_old_int);
  ::sigaction(SIGTERM, &action, &g_old_term);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, &g_old_pipe);
}

StopOnSignals::~StopOnSignals() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  ::sigaction(SIGPIPE, &g_old_pipe, nullptr);
  [[maybe_unused]] const auto n = ::write(signal_pipe().write_end, &kQuit, 1);
  watcher_.join();
}

}  // namespace sockit::cli
