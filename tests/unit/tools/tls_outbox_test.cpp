#include "tools/tls_outbox.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

#include "net/deadline.hpp"
#include "net/socket.hpp"

namespace sockit::tools {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

TEST(TlsOutbox, RecordsGatherUntilFlushedThenLeaveTogether) {
  auto [mine, theirs] = net::socket_pair().value();
  ASSERT_TRUE(net::set_nonblocking(mine.fd()));
  Outbox box(mine.fd());
  std::unique_ptr<BIO, BioFree> bio(box.new_bio());
  ASSERT_TRUE(bio);
  EXPECT_EQ(BIO_write(bio.get(), "record1", 7), 7);
  EXPECT_EQ(BIO_write(bio.get(), "record2", 7), 7);
  EXPECT_EQ(box.unsent(), 14u);
  EXPECT_EQ(BIO_wpending(bio.get()), 14);
  char got[64];
  EXPECT_EQ(::recv(theirs.fd(), got, sizeof got, MSG_DONTWAIT), -1) << "nothing is sent before the flush";
  EXPECT_EQ(BIO_flush(bio.get()), 1);
  EXPECT_EQ(box.unsent(), 0u);
  ASSERT_EQ(::recv(theirs.fd(), got, sizeof got, 0), 14);
  EXPECT_EQ(std::string(got, 14), "record1record2");
}

TEST(TlsOutbox, AFullSocketMakesWritesRetryWithBoundedMemory) {
  auto [mine, theirs] = net::socket_pair().value();
  ASSERT_TRUE(net::set_nonblocking(mine.fd()));
  Outbox box(mine.fd());
  std::unique_ptr<BIO, BioFree> bio(box.new_bio());
  const std::string record(16 * 1024, 'r');
  int written = 0;
  for (; written < 10000; ++written) {  // far more than the socket and the outbox hold
    if (BIO_write(bio.get(), record.data(), static_cast<int>(record.size())) <= 0) break;
  }
  EXPECT_LT(written, 10000);
  EXPECT_TRUE(BIO_should_retry(bio.get()));
  EXPECT_TRUE(BIO_should_write(bio.get()));
  EXPECT_LE(box.unsent(), Outbox::kLimit + record.size());
  EXPECT_EQ(BIO_flush(bio.get()), 0);
  EXPECT_TRUE(BIO_should_retry(bio.get())) << "a full socket is would-block, not a failure";
}

}  // namespace
}  // namespace sockit::tools
