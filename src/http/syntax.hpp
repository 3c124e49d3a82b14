#pragma once

// The character classes and small text rules of HTTP (RFC 9110 5.6) that the parsers share.
#include <cstdint>
#include <optional>
#include <string_view>

namespace sockit::http {

/// tchar: the characters of a token (method, field name, coding, range unit).
bool is_tchar(char c) noexcept;
/// A non-empty run of tchar.
bool is_token(std::string_view text) noexcept;
/// A C0 control or DEL: never allowed in a request line or field value (HTAB aside, see below).
bool is_control(char c) noexcept;
/// SP or HTAB: optional whitespace (OWS).
bool is_ows(char c) noexcept;
/// Whether a field value holds only what RFC 9110 5.5 allows: VCHAR, obs-text, SP and HTAB.
bool is_field_value(std::string_view value) noexcept;
bool is_digit(char c) noexcept;
/// 0-15 for a hex digit, or -1.
int hex_value(char c) noexcept;

char to_lower(char c) noexcept;
bool iequals(std::string_view a, std::string_view b) noexcept;
std::string_view trim_ows(std::string_view text) noexcept;

/// The decimal number of a non-empty run of digits, saturated at UINT64_MAX; nullopt for
/// anything else (empty, a sign, a space).
std::optional<std::uint64_t> parse_decimal(std::string_view digits) noexcept;

/// Calls `each` with every element of a comma-separated list (RFC 9110 5.6.1), OWS trimmed;
/// empty elements included (callers decide whether they may be there).
template <typename Each>
void for_each_element(std::string_view list, Each&& each) {
  for (;;) {
    const auto comma = list.find(',');
    each(trim_ows(list.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace sockit::http
