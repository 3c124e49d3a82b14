#include "http/date.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include <fmt/format.h>

#include "http/syntax.hpp"
#include "net/utc_time.hpp"

namespace sockit::http {

namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::int64_t to_unix(year_month_day date) { return sys_seconds(sys_days(date)).time_since_epoch().count(); }

const std::int64_t kFirst = to_unix(year{0} / January / 1);
const std::int64_t kLast = to_unix(year{9999} / December / 31) + 86399;

// What the three formats (RFC 9110 5.6.7) hold; each parser fills it from its own layout.
struct Fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

template <std::size_t N>
bool one_of(std::string_view text, const std::array<std::string_view, N>& names, int* index = nullptr) {
  const auto it = std::find(names.begin(), names.end(), text);  // case-sensitive (RFC 9110 5.6.7)
  if (index) *index = static_cast<int>(it - names.begin()) + 1;
  return it != names.end();
}

// `width` decimal digits at `at`, where a leading space counts as 0 when `space_padded`.
bool number(std::string_view text, std::size_t at, std::size_t width, int& out, bool space_padded = false) {
  if (at + width > text.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[at + i];
    if (space_padded && i == 0 && c == ' ' && width > 1) continue;
    if (!is_digit(c)) return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

// "08:49:37" at `at`.
bool time_of_day(std::string_view text, std::size_t at, Fields& f) {
  return at + 8 <= text.size() && text[at + 2] == ':' && text[at + 5] == ':' && number(text, at, 2, f.hour) &&
         number(text, at + 3, 2, f.minute) && number(text, at + 6, 2, f.second);
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
bool imf_fixdate(std::string_view t, Fields& f) {
  return t.size() == 29 && one_of(t.substr(0, 3), kDays) && t.substr(3, 2) == ", " && number(t, 5, 2, f.day) &&
         t[7] == ' ' && one_of(t.substr(8, 3), kMonths, &f.month) && t[11] == ' ' && number(t, 12, 4, f.year) &&
         t[16] == ' ' && time_of_day(t, 17, f) && t.substr(25) == " GMT";
}

// asctime: "Sun Nov  6 08:49:37 1994".
bool asctime_date(std::string_view t, Fields& f) {
  return t.size() == 24 && one_of(t.substr(0, 3), kDays) && t[3] == ' ' && one_of(t.substr(4, 3), kMonths, &f.month) &&
         t[7] == ' ' && number(t, 8, 2, f.day, true) && t[10] == ' ' && time_of_day(t, 11, f) && t[19] == ' ' &&
         number(t, 20, 4, f.year);
}

// RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; the year's century is the caller's to choose.
bool rfc850_date(std::string_view t, Fields& f) {
  const auto comma = t.find(", ");
  if (comma == std::string_view::npos || !one_of(t.substr(0, comma), kLongDays)) return false;
  t.remove_prefix(comma + 2);
  return t.size() == 22 && number(t, 0, 2, f.day) && t[2] == '-' && one_of(t.substr(3, 3), kMonths, &f.month) &&
         t[6] == '-' && number(t, 7, 2, f.year) && t[9] == ' ' && time_of_day(t, 10, f) && t.substr(18) == " GMT";
}

int year_of(std::int64_t unix_seconds) {
  return static_cast<int>(year_month_day(floor<days>(sys_seconds(seconds(unix_seconds)))).year());
}

std::optional<std::int64_t> to_unix(const Fields& f) {
  const year_month_day date{year{f.year}, month{static_cast<unsigned>(f.month)}, day{static_cast<unsigned>(f.day)}};
  // A leap second (60) is allowed by the grammar.
  if (!date.ok() || f.hour > 23 || f.minute > 59 || f.second > 60) return std::nullopt;
  return to_unix(date) + f.hour * 3600 + f.minute * 60 + f.second;
}

}  // namespace

std::string format_date(std::int64_t unix_seconds) {
  const auto t = net::utc_time_of_seconds(std::clamp(unix_seconds, kFirst, kLast));
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[t.weekday], t.day, kMonths[t.month - 1], t.year,
                     t.hour, t.minute, t.second);
}

std::optional<std::int64_t> parse_date(std::string_view text, std::int64_t now_unix_seconds) {
  Fields f;
  if (imf_fixdate(text, f) || asctime_date(text, f)) return to_unix(f);
  if (!rfc850_date(text, f)) return std::nullopt;
  // RFC 9110 5.6.7: a two-digit year more than 50 years ahead is the latest such year past.
  const int now = year_of(std::clamp(now_unix_seconds, kFirst, kLast));
  f.year += now - now % 100;
  if (f.year > now + 50) f.year -= 100;
  return to_unix(f);
}

std::optional<std::int64_t> parse_date(std::string_view text) {
  const auto now = floor<seconds>(system_clock::now()).time_since_epoch().count();
  return parse_date(text, now);
}

}  // namespace sockit::http
