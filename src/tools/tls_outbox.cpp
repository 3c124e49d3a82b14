#include "tools/tls_outbox.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace sockit::tools {

// The BIO method's callbacks; the BIO's data is the Outbox.
struct OutboxBio {
  static int write(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
    auto* box = static_cast<Outbox*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (box->unsent() >= Outbox::kLimit) {
      if (box->flush() < 0) return 0;
      if (box->unsent() >= Outbox::kLimit) {
        BIO_set_retry_write(bio);
        return 0;
      }
    }
    box->append(data, size);
    *written = size;
    return 1;
  }

  static long control(BIO* bio, int command, long, void*) {
    auto* box = static_cast<Outbox*>(BIO_get_data(bio));
    switch (command) {
      case BIO_CTRL_FLUSH: {
        BIO_clear_retry_flags(bio);
        const int flushed = box->flush();
        if (flushed == 0) BIO_set_retry_write(bio);
        return flushed > 0 ? 1 : 0;
      }
      case BIO_CTRL_WPENDING: return static_cast<long>(box->unsent());
      case BIO_CTRL_DUP: return 1;
      default: return 0;
    }
  }

  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static const BIO_METHOD* method() {
    // Made once and kept for the life of the process, as OpenSSL's own methods are.
    static BIO_METHOD* made = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sockit outbox");
      if (m) {
        BIO_meth_set_write_ex(m, write);
        BIO_meth_set_ctrl(m, control);
        BIO_meth_set_create(m, create);
      }
      return m;
    }();
    return made;
  }
};

BIO* Outbox::new_bio() {
  const BIO_METHOD* method = OutboxBio::method();
  BIO* bio = method ? BIO_new(method) : nullptr;
  if (bio) BIO_set_data(bio, this);
  return bio;
}

void Outbox::append(const void* data, std::size_t size) {
  if (begin_ == bytes_.size()) {
    bytes_.clear();
    begin_ = 0;
  }
  const auto* from = static_cast<const std::byte*>(data);
  bytes_.insert(bytes_.end(), from, from + size);
}

int Outbox::flush() {
  while (unsent() > 0) {
    const ssize_t n = ::send(socket_, bytes_.data() + begin_, unsent(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (n < 0) return -1;
    begin_ += static_cast<std::size_t>(n);
  }
  bytes_.clear();
  begin_ = 0;
  return 1;
}

}  // namespace sockit::tools
