// Character Generator Protocol, RFC 864. "On line N, put characters (0+N mod 95) through (71+N
// mod 95)" of the 95 printing ASCII characters, numbered from '!' with the space last (the RFC's
// example starts with '!'), and "end each line with carriage return and line feed".
// TCP: the lines never end; any data received is thrown away; TCP flow control paces the sender,
// so lines are produced in chunks only when the model has room (open() and writable()).
// UDP: each datagram is answered with one datagram of 0 to 512 characters, ignoring its data;
// like inetd's built-in chargen, that is one 74-byte line, each request starting one character
// later than the one before.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

constexpr std::size_t kPrintable = 95;
constexpr std::size_t kLineChars = 72;
constexpr std::size_t kLinesPerChunk = 64;  // 4736 bytes: one or two socket writes per call

// The ring of RFC 864: '!' .. '~' then ' ', written twice so that any line is one contiguous
// slice of it.
constexpr std::array<char, 2 * kPrintable> kRing = [] {
  std::array<char, 2 * kPrintable> ring{};
  for (std::size_t i = 0; i < ring.size(); ++i) {
    const auto n = i % kPrintable;
    ring[i] = n < kPrintable - 1 ? static_cast<char>('!' + n) : ' ';
  }
  return ring;
}();

// Line N of the pattern, without its "\r\n".
std::string_view line_chars(std::size_t line) { return {kRing.data() + line % kPrintable, kLineChars}; }

class ChargenSession : public Session {
 public:
  Verdict open(Output& out) override { return produce(out); }
  // RFC 864: "any data received is thrown away".
  Taken receive(std::span<const std::byte> in, Output&) override { return {in.size()}; }
  Verdict writable(Output& out) override { return produce(out); }
  // Each chunk of lines counts as one request: the log line says how much was produced.
  std::size_t requests() const noexcept override { return chunks_; }

 private:
  Verdict produce(Output& out) {
    for (std::size_t i = 0; i < kLinesPerChunk; ++i) {
      out.append(line_chars(next_line_));
      out.append("\r\n");
      next_line_ = (next_line_ + 1) % kPrintable;
    }
    ++chunks_;
    return Verdict::keep_going;
  }

  std::size_t next_line_ = 0;
  std::size_t chunks_ = 0;
};

class ChargenService : public Service {
 public:
  std::string_view name() const noexcept override { return "chargen"; }
  std::unique_ptr<Session> new_session(const SessionContext&) const override {
    return std::make_unique<ChargenSession>();
  }
  bool produces_without_input() const noexcept override { return true; }
  // RFC 864's lines are text ending in CR LF: the refusal is one more such line.
  std::string refusal_answer(ConnectionRefusal, std::string_view reason) const override {
    return refusal_line(reason, "\r\n");
  }
};

class ChargenDatagrams : public DatagramService {
 public:
  std::string_view name() const noexcept override { return "chargen"; }
  /// Thread-safe: the line number is an atomic counter shared by every thread of the model.
  std::optional<std::string> answer(std::span<const std::byte>, const SessionContext&,
                                    std::string&) const override {
    const auto line = next_line_.fetch_add(1, std::memory_order_relaxed);
    return std::string(line_chars(static_cast<std::size_t>(line % kPrintable))) + "\r\n";
  }

 private:
  mutable std::atomic<std::uint64_t> next_line_{0};
};

}  // namespace

std::unique_ptr<Service> make_chargen_tcp(const ServiceOptions&) { return std::make_unique<ChargenService>(); }
std::unique_ptr<DatagramService> make_chargen_udp(const ServiceOptions&) {
  return std::make_unique<ChargenDatagrams>();
}

}  // namespace sockit::serve::services
