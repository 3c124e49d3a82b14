#include "cli/stop_on_signals.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "net/error.hpp"

namespace sockit::cli {
namespace {

constexpr char kSignal = 's';  // SIGINT or SIGTERM
constexpr char kHangup = 'h';  // SIGHUP
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
struct sigaction g_old_hup {};

extern "C" void on_stop_signal(int signal) {
  const int saved = errno;  // a handler must leave errno as it found it
  const char byte = signal == SIGHUP ? kHangup : kSignal;
  [[maybe_unused]] const auto n = ::write(g_write_end, &byte, 1);  // a full pipe has a signal pending already
  errno = saved;
}

// Reads the pipe until the destructor says quit; requests the stop for every stop signal, and
// reloads once for the hang-ups of each read (a burst of them is one reload).
void watch(int read_end, serve::StopSignal& stop, const std::function<void()>& on_stop,
           const std::function<void()>& on_hangup) {
  for (;;) {
    pollfd ready{read_end, POLLIN, 0};
    if (::poll(&ready, 1, -1) < 0 && errno != EINTR) return;
    char bytes[64];
    const auto n = ::read(read_end, bytes, sizeof bytes);
    bool hangup = false;
    for (ssize_t i = 0; i < n; ++i) {
      if (bytes[i] == kQuit) return;
      if (bytes[i] == kHangup) {
        hangup = true;
        continue;
      }
      const bool first = !stop.requested();
      stop.request();
      if (first && on_stop) on_stop();
    }
    if (hangup && on_hangup && !stop.requested()) on_hangup();
  }
}

}  // namespace

StopOnSignals::StopOnSignals(serve::StopSignal& stop, std::function<void()> on_stop,
                             std::function<void()> on_hangup)
    : hangup_(on_hangup != nullptr) {
  const auto& pipe = signal_pipe();
  char stale[64];
  while (::read(pipe.read_end, stale, sizeof stale) > 0) {
  }
  g_write_end = pipe.write_end;
  watcher_ = std::thread(watch, pipe.read_end, std::ref(stop), std::move(on_stop), std::move(on_hangup));
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &g_old_int);
  ::sigaction(SIGTERM, &action, &g_old_term);
  if (hangup_) ::sigaction(SIGHUP, &action, &g_old_hup);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, &g_old_pipe);
}

StopOnSignals::~StopOnSignals() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  if (hangup_) ::sigaction(SIGHUP, &g_old_hup, nullptr);
  ::sigaction(SIGPIPE, &g_old_pipe, nullptr);
  [[maybe_unused]] const auto n = ::write(signal_pipe().write_end, &kQuit, 1);
  watcher_.join();
}

}  // namespace sockit::cli
