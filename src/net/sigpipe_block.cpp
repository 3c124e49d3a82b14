#include "net/sigpipe_block.hpp"

#include <pthread.h>

#include <ctime>

namespace sockit::net {

SigpipeBlock::SigpipeBlock() noexcept {
  sigemptyset(&pipe_);
  sigaddset(&pipe_, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  // A SIGPIPE pending before us is someone else's: leave it for them.
  was_pending_ = ::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  blocked_ = ::pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
}

SigpipeBlock::~SigpipeBlock() {
  if (!blocked_) return;
  if (!was_pending_) {
    const timespec now{0, 0};
    while (::sigtimedwait(&pipe_, nullptr, &now) == SIGPIPE) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

}  // namespace sockit::net
