#include "serve/metrics_sources.hpp"

#include <algorithm>
#include <cerrno>

#include "net/address.hpp"

namespace sockit::serve {

TopSources::TopSources() {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&mutex_, &attributes);
  pthread_mutexattr_destroy(&attributes);
}

TopSources::~TopSources() { pthread_mutex_destroy(&mutex_); }

bool TopSources::lock() const noexcept {
  const int rc = pthread_mutex_lock(&mutex_);
  if (rc == EOWNERDEAD) {
    // Its holder died mid-update: at worst one count is off. The table stays usable.
    pthread_mutex_consistent(&mutex_);
    return true;
  }
  return rc == 0;
}

void TopSources::unlock() const noexcept { pthread_mutex_unlock(&mutex_); }

void TopSources::count(std::string_view peer, bool refused) noexcept {
  const auto host = net::host_part(peer).substr(0, kAddressBytes);
  if (!lock()) return;
  Slot* slot = nullptr;
  for (std::size_t i = 0; i < used_ && !slot; ++i)
    if (slots_[i].key() == host) slot = &slots_[i];
  if (!slot) {
    if (used_ < slots_.size()) {
      slot = &slots_[used_++];
    } else {
      // Space-saving: the newcomer takes the least counted place, and its count as possible error.
      slot = &*std::min_element(slots_.begin(), slots_.end(),
                                [](const Slot& a, const Slot& b) { return a.connections < b.connections; });
      slot->error = slot->connections;
      slot->refused = 0;
    }
    std::copy(host.begin(), host.end(), slot->address.begin());
    slot->length = static_cast<std::uint8_t>(host.size());
  }
  ++slot->connections;
  if (refused) ++slot->refused;
  unlock();
}

std::vector<TopSources::Source> TopSources::top(std::size_t n) const {
  std::vector<Source> all;
  if (!lock()) return all;
  for (std::size_t i = 0; i < used_; ++i)
    all.push_back({std::string(slots_[i].key()), slots_[i].connections, slots_[i].error, slots_[i].refused});
  unlock();
  const auto shown = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(shown), all.end(),
                    [](const Source& a, const Source& b) { return a.connections > b.connections; });
  all.resize(shown);
  return all;
}

}  // namespace sockit::serve
