#include "cli/stop_on_signals.hpp"

#include <csignal>

#include <atomic>

namespace sockit::cli {
namespace {

// The handler's only way to reach the server: a lock-free atomic pointer load is
// async-signal-safe, and so is StopSignal::request().
std::atomic<serve::StopSignal*> g_stop{nullptr};
struct sigaction g_old_int {};
struct sigaction g_old_term {};
struct sigaction g_old_pipe {};

extern "C" void request_stop(int) {
  if (auto* stop = g_stop.load()) stop->request();
}

}  // namespace

StopOnSignals::StopOnSignals(serve::StopSignal& stop) {
  g_stop.store(&stop);
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
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
  g_stop.store(nullptr);
}

}  // namespace sockit::cli
