#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::http {

/// An HTTP date (IMF-fixdate, RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT". Calendar
/// arithmetic only: no gmtime_r, whose time-zone lock a forked child could inherit held. Times
/// outside years 0000-9999 are clamped to them (the format has four digits).
std::string format_date(std::int64_t unix_seconds);
/// IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must accept; nullopt for
/// anything else (an If-Modified-Since that does not parse is ignored). An RFC 850 date's
/// two-digit year is the one not more than 50 years after the year of `now_unix_seconds`
/// (RFC 9110 5.6.7); the one-argument form reads the system clock for it.
std::optional<std::int64_t> parse_date(std::string_view text);
std::optional<std::int64_t> parse_date(std::string_view text, std::int64_t now_unix_seconds);

}  // namespace sockit::http
