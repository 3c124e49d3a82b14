#include "tools/nc_chat.hpp"

namespace sockit::tools::chat {
namespace {

bool kept_as_is(unsigned char c) { return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\r'; }

}  // namespace

std::string name_of(int id) { return "<user" + std::to_string(id) + ">"; }

std::string connected(const std::string& address, const std::string& name) {
  return "<announce> " + address + " is connected as " + name + ".\n";
}

std::string already_connected(const std::vector<std::pair<std::string, std::string>>& others) {
  std::string text = "<announce> already connected: ";
  if (others.empty()) text += "nobody";
  for (std::size_t i = 0; i < others.size(); ++i)
    text += (i ? ", " : "") + others[i].first + " as " + others[i].second;
  return text + ".\n";
}

std::string disconnected(const std::string& name) { return "<announce> " + name + " is disconnected.\n"; }

void LineFramer::take(std::span<const std::byte> bytes, std::string& out) {
  const auto* data = reinterpret_cast<const char*>(bytes.data());
  std::string_view rest(data, bytes.size());
  while (!rest.empty()) {
    // partial_ never exceeds max_line_: a line of exactly max_line_ bytes still waits to see
    // whether a newline ends it.
    const std::size_t room = max_line_ - partial_.size();
    const auto newline = rest.substr(0, room + 1).find('\n');
    if (newline != std::string_view::npos) {
      partial_.append(rest.substr(0, newline));
      rest.remove_prefix(newline + 1);
    } else if (rest.size() <= room) {
      partial_.append(rest);
      return;
    } else {
      // No newline within the limit: what fits goes out as a line of its own.
      partial_.append(rest.substr(0, room));
      rest.remove_prefix(room);
    }
    emit(partial_, out);
    partial_.clear();
  }
}

void LineFramer::flush(std::string& out) {
  if (partial_.empty()) return;
  emit(partial_, out);
  partial_.clear();
}

void LineFramer::emit(std::string_view line, std::string& out) const {
  out += prefix_;
  for (char ch : line) {
    const auto c = static_cast<unsigned char>(ch);
    if (kept_as_is(c)) {
      out += ch;
    } else {
      out += '\\';
      out += static_cast<char>('0' + (c >> 6));
      out += static_cast<char>('0' + ((c >> 3) & 7));
      out += static_cast<char>('0' + (c & 7));
    }
  }
  out += '\n';
}

}  // namespace sockit::tools::chat
