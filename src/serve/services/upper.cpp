// The notes' upper-case service (Peerapon, "Socket Programming", port 50000): the server answers
// text.upper() and the client's "quit" ends its session. Only ASCII a-z change; every other byte
// passes through. The notes' TCP client sends each line WITHOUT a newline and waits for the
// reply, so bytes are answered as they arrive, never held back waiting for a line end.
// A session ends on a line that is exactly "quit" ("quit\r\n" too) or on a chunk that is exactly
// "quit" (the notes' client); the quit itself is not answered. UDP: each datagram is answered in
// upper case, except "quit" (with or without a line end), which gets no reply; unlike the notes'
// server, a client's quit never stops the server.
#include <algorithm>
#include <string>
#include <string_view>

#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

constexpr std::string_view kQuit = "quit";

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string_view text_of(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

class UpperSession : public Session {
 public:
  // Every byte is answered by one byte: take as many as the output has room for.
  Taken receive(std::span<const std::byte> in, Output& out) override {
    // The chunk as it arrived, not as much of it as the budget lets through: "quitter" offered
    // with room for 4 bytes is not the quit chunk.
    if (text_of(in) == kQuit) return {in.size(), Verdict::close};
    const auto text = text_of(in.first(std::min(in.size(), out.room())));
    std::string reply;
    reply.reserve(text.size());
    std::size_t line_start = 0;  // where the current line's bytes begin in `reply`
    for (char c : text) {
      if (c == '\n') {
        if (line_is_quit()) {
          // What came before the quit line in this chunk is answered; the quit line is not (its
          // first bytes may have gone out already if it arrived split across chunks).
          reply.resize(line_start);
          out.append(reply);
          return {in.size(), Verdict::close};
        }
        reply += c;
        line_start = reply.size();
        line_.clear();
        line_length_ = 0;
        continue;
      }
      if (line_length_ < kQuit.size() + 1) line_ += c;
      ++line_length_;
      reply += upper(c);
    }
    if (!reply.empty()) {
      out.append(reply);
      ++chunks_;
    }
    return {text.size()};
  }
  // Each chunk answered counts as one request (the notes' client sends one line per chunk).
  std::size_t requests() const noexcept override { return chunks_; }

 private:
  bool line_is_quit() const {
    return (line_length_ == kQuit.size() && line_ == kQuit) ||
           (line_length_ == kQuit.size() + 1 && line_ == "quit\r");
  }

  std::string line_;             // the current line's first bytes, enough to recognise "quit\r"
  std::size_t line_length_ = 0;  // the current line's length so far
  std::size_t chunks_ = 0;
};

class UpperService : public Service {
 public:
  std::string_view name() const noexcept override { return "upper"; }
  std::unique_ptr<Session> new_session(const SessionContext&) const override {
    return std::make_unique<UpperSession>();
  }
  std::string refusal_answer(ConnectionRefusal, std::string_view reason) const override {
    return refusal_line(reason, "\n");
  }
};

class UpperDatagrams : public DatagramService {
 public:
  std::string_view name() const noexcept override { return "upper"; }
  std::optional<std::string> answer(std::span<const std::byte> datagram, const SessionContext&,
                                    std::string&) const override {
    const auto text = text_of(datagram);
    // nc -u sends the line end too.
    if (text == kQuit || text == "quit\n" || text == "quit\r\n") return std::nullopt;
    std::string reply(text);
    for (auto& c : reply) c = upper(c);
    return reply;
  }
};

}  // namespace

std::unique_ptr<Service> make_upper_tcp(const ServiceOptions&) { return std::make_unique<UpperService>(); }
std::unique_ptr<DatagramService> make_upper_udp(const ServiceOptions&) { return std::make_unique<UpperDatagrams>(); }

}  // namespace sockit::serve::services
