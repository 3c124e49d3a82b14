#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

// ncat --chat's text: names, announcements, and lines prefixed with their sender's name. Free
// of I/O, so the framing is tested (and bounded) without sockets.
namespace sockit::tools::chat {

/// ncat names a client after its descriptor: "<user5>"; standard input is "<user0>".
std::string name_of(int id);

/// "<announce> 127.0.0.1 is connected as <user5>.\n"
std::string connected(const std::string& address, const std::string& name);
/// "<announce> already connected: nobody.\n" or "... 127.0.0.1 as <user4>, 127.0.0.1 as <user5>.\n"
/// from (address, name) pairs in connection order.
std::string already_connected(const std::vector<std::pair<std::string, std::string>>& others);
/// "<announce> <user5> is disconnected.\n"
std::string disconnected(const std::string& name);

/// One sender's lines: each complete line goes out as "<userN> text\n", with the bytes ncat
/// escapes (control characters but tab, CR and LF; DEL; bytes over 127) written as \ooo octal,
/// as ncat does. Unlike ncat, which prefixes each read() however a line was cut, a line cut
/// across reads is put together first. A partial line holds at most `max_line` bytes: a longer
/// one goes out in pieces of that size, each as a line of its own.
class LineFramer {
 public:
  LineFramer(std::string name, std::size_t max_line)
      : prefix_(std::move(name) + " "), max_line_(std::max<std::size_t>(max_line, 1)) {}

  /// Appends to `out` the framed lines that `bytes` completes; keeps the rest.
  void take(std::span<const std::byte> bytes, std::string& out);
  /// Appends what is left of an unterminated line, with a newline (the sender left).
  void flush(std::string& out);
  std::size_t held() const noexcept { return partial_.size(); }

 private:
  void emit(std::string_view line, std::string& out) const;

  std::string prefix_;
  std::size_t max_line_;
  std::string partial_;
};

}  // namespace sockit::tools::chat
