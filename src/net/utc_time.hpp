#pragma once

#include <chrono>
#include <cstdint>

namespace sockit::net {

/// A moment in UTC broken down by calendar arithmetic alone (std::chrono's civil calendar):
/// gmtime_r and localtime_r take glibc's time-zone lock, which a child forked while another
/// thread held it would wait on for good (and fmt's chrono formatting of a time_point is
/// localtime's).
struct UtcTime {
  int year;
  unsigned month;    ///< 1-12
  unsigned day;      ///< 1-31
  unsigned weekday;  ///< 0 Sunday - 6 Saturday
  long hour, minute, second, millisecond;
};

inline UtcTime utc_time(std::chrono::sys_time<std::chrono::milliseconds> at) {
  using namespace std::chrono;
  const auto midnight = floor<days>(at);
  const year_month_day date{midnight};
  const hh_mm_ss time{at - midnight};
  return {static_cast<int>(date.year()),          static_cast<unsigned>(date.month()),
          static_cast<unsigned>(date.day()),      weekday(midnight).c_encoding(),
          time.hours().count(),                   time.minutes().count(),
          static_cast<long>(time.seconds().count()), static_cast<long>(time.subseconds().count())};
}

inline UtcTime utc_time(std::chrono::system_clock::time_point at) {
  return utc_time(std::chrono::floor<std::chrono::milliseconds>(at));
}

inline UtcTime utc_time_of_seconds(std::int64_t unix_seconds) {
  return utc_time(std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::seconds(unix_seconds)));
}

}  // namespace sockit::net
