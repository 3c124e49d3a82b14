#include "tools/scan_identify.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <regex>

#include "tools/scan.hpp"

namespace sockit::tools {
namespace {

constexpr std::int64_t kUnixToRfc868 = 2208988800;  // seconds from 1900-01-01 to 1970-01-01

std::string_view first_line(std::string_view bytes) {
  auto line = bytes.substr(0, bytes.find('\n'));
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line.substr(0, kBannerMax);
}

bool is_daytime(std::string_view line) {
  static const std::regex inetd(R"([A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-3]\d \d\d:\d\d:\d\d \d{4})");
  static const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*)");
  const std::string text(line);
  return std::regex_match(text, inetd) || std::regex_match(text, iso);
}

// RFC 868: 32-bit seconds since 1900, so it wraps in 2036; compare modulo 2^32.
bool is_time(std::string_view bytes, bool eof, std::chrono::system_clock::time_point now) {
  if (bytes.size() != 4 || !eof) return false;
  std::uint32_t sent = 0;
  for (char c : bytes) sent = (sent << 8) | static_cast<unsigned char>(c);
  const auto ours = static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() + kUnixToRfc868);
  const std::uint32_t apart = sent > ours ? sent - ours : ours - sent;
  return std::min<std::uint32_t>(apart, 0u - apart) <= 86400;
}

// RFC 864: each line is 72 consecutive characters of the 95 printable ones, wrapping at '~'.
bool is_chargen(std::string_view line) {
  if (line.size() < 16) return false;
  for (std::size_t i = 0; i + 1 < line.size(); ++i) {
    const char c = line[i];
    if (c < ' ' || c > '~' || line[i + 1] != (c == '~' ? ' ' : c + 1)) return false;
  }
  return true;
}

std::string header_value(std::string_view head, std::string_view name) {
  std::size_t at = head.find('\n');
  while (at != std::string_view::npos && at + 1 < head.size()) {
    auto line = head.substr(at + 1, head.find('\n', at + 1) - at - 1);
    at = head.find('\n', at + 1);
    const auto colon = line.find(':');
    if (colon != name.size()) continue;
    if (!std::equal(name.begin(), name.end(), line.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); }))
      continue;
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.remove_suffix(1);
    return std::string(value.substr(0, kBannerMax));
  }
  return "";
}

}  // namespace

bool banner_complete(std::string_view received, bool probed, bool eof) {
  if (eof || received.size() >= kBannerReadMax) return true;
  if (!probed) return received.size() >= kBannerMax || (received.size() >= 8 && received.find('\n') != std::string_view::npos);
  if (received.starts_with("HTTP/")) return received.find("\r\n\r\n") != std::string_view::npos;
  if (kBannerProbe.starts_with(received)) return received.size() == kBannerProbe.size();
  return received.find('\n') != std::string_view::npos;
}

Identified identify_service(std::string_view received, bool probed, bool eof, std::chrono::system_clock::time_point now) {
  Identified id;
  id.banner = std::string(first_line(received));
  if (probed) {
    static const std::regex status(R"(HTTP/1\.[01] \d{3}( .*)?)");
    if (received.size() >= 8 && kBannerProbe.starts_with(received)) {
      id.service = "echo";
    } else if (std::regex_match(id.banner, status)) {
      id.service = "http";
      id.server = header_value(received, "Server");
    }
  } else if (is_time(received, eof, now)) {
    id.service = "time";
    id.banner = std::string(received);
  } else if (is_daytime(id.banner)) {
    id.service = "daytime";
  } else if (is_chargen(id.banner)) {
    id.service = "chargen";
  }
  return id;
}

std::string escape_banner(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\\': text += "\\\\"; break;
      case '\r': text += "\\r"; break;
      case '\n': text += "\\n"; break;
      case '\t': text += "\\t"; break;
      default:
        if (u >= 0x20 && u < 0x7f) {
          text += c;
        } else {
          text += "\\x";
          text += kHex[u >> 4];
          text += kHex[u & 15];
        }
    }
  }
  return text;
}

}  // namespace sockit::tools
