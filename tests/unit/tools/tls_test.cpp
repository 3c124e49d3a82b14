#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <poll.h>
#include <unistd.h>

#include <future>
#include <string>

#include "net/deadline.hpp"
#include "net/fd.hpp"
#include "net/socket.hpp"
#include "tools/nc_tls_relay.hpp"
#include "tools/tls_context.hpp"
#include "tools/tls_self_signed.hpp"
#include "tools/tls_stream.hpp"
#include "pipe_fixture.hpp"
#include "test_support.hpp"

namespace sockit::tools {
namespace {

using namespace std::chrono_literals;
using net::Fd;

TEST(TlsAlpnList, ParsesCommaSeparatedNamesAndRefusesEmptyOnes) {
  EXPECT_EQ(parse_alpn_list("h2,http/1.1").value(), (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_FALSE(parse_alpn_list(""));
  EXPECT_FALSE(parse_alpn_list("h2,,x"));
  EXPECT_FALSE(parse_alpn_list("h2,"));
  EXPECT_FALSE(parse_alpn_list(std::string(256, 'a')));
  EXPECT_EQ(alpn_wire({"h2", "x"}), (std::vector<unsigned char>{2, 'h', '2', 1, 'x'}));
}

TEST(TlsSelfSigned, IsCnLocalhostValidForADayAndSignedByItsOwnKey) {
  auto made = make_self_signed("localhost", 24 * 3600).value();
  X509* cert = made.certificate.get();
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "localhost");
  EXPECT_EQ(X509_verify(cert, made.key.get()), 1);
  int days = -1, seconds = -1;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert), X509_get0_notAfter(cert)), 1);
  EXPECT_EQ(days, 1);
  EXPECT_EQ(seconds, 0);
  EXPECT_EQ(sha256_fingerprint(cert).size(), 32u * 3 - 1);
}

using sockit::testing::Pipe;

std::string read_all(int fd) { return sockit::testing::read_until_eof(fd, 10s); }

// A TLS server on `fd` that upper-cases what it gets until close_notify, then answers and
// closes its side too.
std::string upper_case_server(SSL_CTX* ctx, int fd) {
  auto stream = TlsStream::server(ctx, fd, "test client").value();
  stream.handshake(net::Deadline::after(10s)).value();
  std::string got;
  std::byte buffer[4096];
  const auto deadline = net::Deadline::after(10s);
  for (;;) {
    auto io = stream.read(buffer).value();
    if (io.closed) break;
    if (io.wait) {
      if (!net::wait_ready(fd, io.wait, deadline)) return got + "<timeout>";
      continue;
    }
    got.append(reinterpret_cast<const char*>(buffer), io.bytes);
  }
  std::string reply = got;
  for (char& c : reply) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::span<const std::byte> rest = std::as_bytes(std::span(reply));
  while (!rest.empty()) {
    auto io = stream.write(rest).value();
    rest = rest.subspan(io.bytes);
    if (io.wait && !net::wait_ready(fd, io.wait, deadline)) return got + "<timeout>";
  }
  for (;;) {
    auto io = stream.send_close_notify().value();
    if (!io.wait) break;
    if (!net::wait_ready(fd, io.wait, deadline)) break;
  }
  return got;
}

TEST(TlsRelay, InputEofSendsCloseNotifyAndTheRelayReadsUntilThePeerCloses) {
  auto server_ctx = server_context({}).value();
  auto client_ctx = client_context({}).value();
  auto [mine, theirs] = net::socket_pair().value();
  ASSERT_TRUE(net::set_nonblocking(mine.fd()));
  ASSERT_TRUE(net::set_nonblocking(theirs.fd()));
  auto server = std::async(std::launch::async, [&, fd = theirs.fd()] { return upper_case_server(server_ctx.ctx.get(), fd); });

  Pipe input, output;
  const std::string text(200000, 'x');
  auto writer = std::async(std::launch::async, [&] {
    ASSERT_EQ(::write(input.write_end.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
    input.write_end = Fd();
  });
  auto stream = TlsStream::client(client_ctx.ctx.get(), mine.fd(), "", "test server").value();
  ASSERT_TRUE(stream.handshake(net::Deadline::after(10s)));
  auto reader = std::async(std::launch::async, [&] { return read_all(output.read_end.get()); });
  auto result = relay_tls(input.read_end.get(), output.write_end.get(), stream, mine.fd(),
                          RelayOptions{.idle_timeout = 10000ms,
                                       .linger_after_input_eof = 0ms,
                                       .peer_name = "test server",
                                       .quit_after_input_eof = {},
                                       .ask_on_empty_input = false});
  output.write_end = Fd();
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_EQ(result->sent, text.size());
  EXPECT_EQ(result->received, text.size());
  EXPECT_EQ(server.get(), text);
  EXPECT_EQ(reader.get(), std::string(text.size(), 'X'));
  writer.get();
}

TEST(TlsHandshake, AVerifyingClientRefusesASelfSignedServerInOneLine) {
  auto server_ctx = server_context({}).value();
  TlsOptions verify;
  verify.verify = true;
  auto client_ctx = client_context(verify).value();
  auto [mine, theirs] = net::socket_pair().value();
  ASSERT_TRUE(net::set_nonblocking(mine.fd()));
  ASSERT_TRUE(net::set_nonblocking(theirs.fd()));
  auto server = std::async(std::launch::async, [&, fd = theirs.fd()] {
    auto stream = TlsStream::server(server_ctx.ctx.get(), fd, "client").value();
    return static_cast<bool>(stream.handshake(net::Deadline::after(10s)));
  });
  auto stream = TlsStream::client(client_ctx.ctx.get(), mine.fd(), "localhost", "127.0.0.1:4433").value();
  auto shaken = stream.handshake(net::Deadline::after(10s));
  ASSERT_FALSE(shaken);
  EXPECT_STREQ(shaken.error().what(),
               "TLS handshake with 127.0.0.1:4433 failed: certificate verify failed (self-signed certificate)");
  EXPECT_FALSE(server.get());
}

}  // namespace
}  // namespace sockit::tools
