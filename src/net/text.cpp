#include "net/text.hpp"

namespace sockit::net {

std::string printable(std::string_view text, std::size_t max) {
  std::string safe(text.substr(0, max));
  for (auto& c : safe)
    if (c < ' ' || c > '~') c = '?';  // char may be signed: bytes >= 0x80 are below ' ' too
  if (text.size() > max) safe += "...";
  return safe;
}

std::string counted(std::uint64_t count, std::string_view singular, std::string_view plural) {
  std::string text = std::to_string(count);
  text += ' ';
  if (count == 1) text += singular;
  else if (plural.empty()) (text += singular) += 's';
  else text += plural;
  return text;
}

}  // namespace sockit::net
