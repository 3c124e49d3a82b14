// net::Reader (the notes' RIO: lines and exact counts over a descriptor) over a socketpair: the
// input is written in pieces, and read_line / read_exact / read_some are called in any mix with
// any buffer size, each only when what was written lets it finish without waiting. Every answer
// is checked against the written stream; a call that waits is a bug (it gets 2 s, then fails).
#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include "net/fd.hpp"
#include "net/io.hpp"
#include "net/reader.hpp"
#include "support/check.hpp"

#include <fuzzer/FuzzedDataProvider.h>

using namespace sockit;

namespace {

net::Deadline soon() { return net::Deadline::after(std::chrono::seconds(2)); }

class Model {
 public:
  Model(std::size_t max, net::LineEnd ends) : max_(max), ends_(ends) {}

  std::string stream;  // every byte written
  std::size_t pos = 0;  // every byte before this was handed out
  bool closed = false;  // the writer shut down: EOF follows the stream

  std::size_t available() const { return stream.size() - pos; }

  // Where the next line ends (its terminator), if written.
  std::size_t terminator() const {
    for (std::size_t i = pos; i < stream.size(); ++i)
      if (stream[i] == '\n' || (ends_ == net::LineEnd::newline_or_nul && stream[i] == '\0')) return i;
    return std::string::npos;
  }

  // True when read_line would finish now: a terminator, a line already too long, or EOF.
  bool line_ready() const { return terminator() != std::string::npos || available() > max_ || closed; }

 private:
  std::size_t max_;
  net::LineEnd ends_;
};

// Returns false once the reader is in a state the model no longer follows (after an error).
bool read_line(net::Reader& reader, Model& m, std::size_t max, net::LineEnd ends) {
  const auto got = reader.read_line(max, ends, soon());
  const auto end = m.terminator();
  const auto length = (end == std::string::npos ? m.stream.size() : end) - m.pos;
  if (length > max) {
    fuzz::require(!got && got.error().code() == net::make_error_code(net::Errc::line_too_long),
                  "a line longer than max was not refused");
    return false;  // the reader dropped what it had buffered: the caller closes
  }
  fuzz::require(got.has_value(), "read_line failed: ", got ? "" : got.error().what());
  if (end == std::string::npos && length == 0) {
    fuzz::require(!got->has_value(), "read_line made a line up at EOF");
    return true;
  }
  fuzz::require(got->has_value(), "read_line missed a line");
  fuzz::require(**got == std::string_view(m.stream).substr(m.pos, length), "read_line returned other bytes");
  m.pos += length + (end == std::string::npos ? 0 : 1);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  static constexpr std::size_t kMaxes[] = {0, 1, 2, 3, 5, 16, 100, 8192};
  const auto buffer_size = fdp.ConsumeIntegralInRange<std::size_t>(1, 40);
  const auto max = fdp.PickValueInArray(kMaxes);
  const auto ends = fdp.ConsumeBool() ? net::LineEnd::newline_or_nul : net::LineEnd::newline;

  int pair[2];
  fuzz::require(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0, "socketpair failed");
  net::Fd writer(pair[0]);
  net::Fd reading(pair[1]);
  net::Reader reader(reading.get(), buffer_size);
  Model m(max, ends);

  for (;;) {
    if (fdp.remaining_bytes() == 0 && !m.closed) {
      fuzz::require(::shutdown(writer.get(), SHUT_WR) == 0, "shutdown failed");
      m.closed = true;
    }
    if (m.closed && m.available() == 0) break;
    const int action = m.closed ? 2 + static_cast<int>(m.pos % 3) : fdp.ConsumeIntegralInRange<int>(0, 4);
    if (action <= 1) {
      const auto chunk = fdp.ConsumeBytesAsString(fdp.ConsumeIntegralInRange<std::size_t>(1, 64));
      if (chunk.empty()) continue;
      // Never waits: a socket holds less than its buffer size when the bytes come in many small
      // writes (each costs the kernel a buffer of its own), so a chunk may go in in part or not
      // at all; the stream is what went in.
      const auto sent = net::try_send(writer.get(), fuzz::bytes_of(chunk));
      fuzz::require(sent.has_value(), "write failed");
      m.stream += chunk.substr(0, sent->value_or(0));
    } else if (action == 2) {
      if (m.line_ready() && !read_line(reader, m, max, ends)) return 0;
    } else if (action == 3) {
      const auto n = std::min(m.available(), m.closed ? std::size_t{64} : fdp.ConsumeIntegralInRange<std::size_t>(0, 64));
      std::string out(n, '\0');
      const auto got = reader.read_exact(std::as_writable_bytes(std::span(out.data(), out.size())), soon());
      fuzz::require(got.has_value(), "read_exact of bytes already written failed");
      fuzz::require(out == std::string_view(m.stream).substr(m.pos, n), "read_exact returned other bytes");
      m.pos += n;
    } else if (m.available() > 0) {
      const auto want = m.closed ? std::size_t{64} : fdp.ConsumeIntegralInRange<std::size_t>(1, 64);
      std::string out(want, '\0');
      const auto got = reader.read_some(std::as_writable_bytes(std::span(out.data(), out.size())), soon());
      fuzz::require(got.has_value() && *got > 0 && *got <= std::min(want, m.available()),
                    "read_some of bytes already written failed");
      fuzz::require(std::string_view(out).substr(0, *got) == std::string_view(m.stream).substr(m.pos, *got),
                    "read_some returned other bytes");
      m.pos += *got;
    }
  }
  // Everything was handed out: EOF now, for every kind of read.
  const auto last = reader.read_line(max, ends, soon());
  fuzz::require(last && !last->has_value(), "read_line after the end is not EOF");
  std::byte scratch[8];
  const auto some = reader.read_some(scratch, soon());
  fuzz::require(some && *some == 0, "read_some after the end is not 0");
  return 0;
}
