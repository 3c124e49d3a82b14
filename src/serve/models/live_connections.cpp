#include "serve/models/live_connections.hpp"

#include <sys/socket.h>

namespace sockit::serve::models::blocking {

std::size_t LiveConnections::shut_down_all() {
  std::lock_guard lock(mutex_);
  for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  return fds_.size();
}

}  // namespace sockit::serve::models::blocking
