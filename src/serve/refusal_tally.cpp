#include "serve/refusal_tally.hpp"

#include <fmt/format.h>

namespace sockit::serve {

bool RefusalTally::count(Refusal reason, Time now) {
  Spell& spell = spells_[index(reason)];
  ++spell.total;
  spell.last = now;
  if (spell.count++ > 0) return false;
  spell.first = now;
  return true;
}

std::string RefusalTally::end(Refusal reason, Spell& spell) {
  const double seconds = std::chrono::duration<double>(spell.last - spell.first).count();
  std::string line = fmt::format("udp: refused {} datagram{} in {:.1f} s ({})", spell.count,
                                 spell.count == 1 ? "" : "s", seconds, refusal_name(reason));
  spell.count = 0;
  return line;
}

std::vector<std::string> RefusalTally::end_quiet(Time now) {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < spells_.size(); ++i)
    if (spells_[i].count > 0 && now - spells_[i].last >= quiet_) lines.push_back(end(Refusal(i), spells_[i]));
  return lines;
}

std::vector<std::string> RefusalTally::end_all() {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < spells_.size(); ++i)
    if (spells_[i].count > 0) lines.push_back(end(Refusal(i), spells_[i]));
  return lines;
}

}  // namespace sockit::serve
