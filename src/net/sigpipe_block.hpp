#pragma once

#include <signal.h>

namespace sockit::net {

/// Keeps SIGPIPE away from the calling thread while it lives, without touching process-wide
/// signal state. sendfile() and splice() into a socket cannot take MSG_NOSIGNAL, so writing to a
/// peer that left raises SIGPIPE, which by default kills the process. Blocked in this thread, the
/// signal stays pending instead and the call fails with EPIPE; the destructor takes back any
/// SIGPIPE this thread left pending and restores the former mask. Create it on the thread that
/// does the writing, for as long as it writes (an event loop's run(), a connection).
class SigpipeBlock {
 public:
  SigpipeBlock() noexcept;
  ~SigpipeBlock();
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
  bool blocked_ = false;
};

}  // namespace sockit::net
