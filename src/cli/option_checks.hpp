#pragma once

// The one way src/cli checks numbers (and the text of hosts and ports) given on the command line.
//
// CLI11 2.1.2 reads an unsigned option with strtoull(text, 0): "-5" wraps to 2^64-5 and "010"
// is octal 8; its double options take "nan" and "inf", and its Range validators print
// DBL_MAX as a 309-digit number. These validators read the text themselves, strictly, before
// CLI11 converts it, and rewrite it in plain decimal so that CLI11 then reads the same number:
// attach them with ->transform(...). CLI11 puts the option's name in front of the message:
// "--timeout: must be greater than 0 (got 0)".

#include <CLI/CLI.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace sockit::cli::checks {

/// The longest time any option takes: a year (in seconds), so every time fits a Deadline and
/// the milliseconds it becomes fit a long.
inline constexpr double kMaxSeconds = 365.0 * 24 * 3600;

/// Reads `text` as a whole number from `min` to `max`: decimal digits only (leading zeros stay
/// decimal; no sign, fraction, exponent or hex). Returns "" and rewrites `text` in plain decimal,
/// or says what is wrong ("must be greater than 0 (got -5)", "'abc' is not a whole number").
std::string check_whole(std::string& text, std::uint64_t min, std::uint64_t max);

/// Reads `text` as a finite real number (decimal, optionally with an exponent; no NaN, infinity
/// or hex) from `min` to `max`, or above `min` when `above_min`. Returns "" and rewrites `text`
/// in plain decimal, or says what is wrong.
std::string check_real(std::string& text, double min, bool above_min, double max);

/// A port given as text where a service name may stand too ("80", "http"): numbers must be
/// 1-65535, or 0-65535 with `zero_picks_one` (listening). Returns "" or what is wrong.
std::string check_port_text(std::string_view text, bool zero_picks_one);

/// A host given as text: a numeric IPv4 (any form inet_aton takes) or IPv6 address, or
/// something that can be a DNS name (letters, digits, '-', '_', '.'; not a dotted number that is
/// no IPv4 address, which getaddrinfo would send to DNS). Returns "" or what is wrong.
std::string check_host_text(std::string_view text);

/// HOST:PORT or [V6ADDR]:PORT, each part as check_host_text and check_port_text say. Returns ""
/// or what is wrong.
std::string check_host_port_text(std::string_view text, bool zero_picks_one);

/// What --help shows after the type: "1-65535", or "POSITIVE" when only the type bounds it.
std::string whole_description(std::uint64_t min, std::uint64_t max, bool max_is_the_types);

/// A whole-number option of type T from `min` to `max` (by default T's largest value, so that
/// nothing ever wraps).
template <typename T>
CLI::Validator whole(T min, T max = std::numeric_limits<T>::max()) {
  static_assert(std::is_integral_v<T>);
  static_assert(sizeof(T) <= sizeof(std::uint64_t));
  const auto lo = static_cast<std::uint64_t>(min), hi = static_cast<std::uint64_t>(max);
  return CLI::Validator([lo, hi](std::string& text) { return check_whole(text, lo, hi); },
                        whole_description(lo, hi, max == std::numeric_limits<T>::max()));
}

/// A real option greater than 0 and at most `max`.
CLI::Validator positive(double max);
/// A real option from `min` to `max`.
CLI::Validator between(double min, double max);
/// Seconds greater than 0 (a timeout, an interval), at most a year.
CLI::Validator positive_seconds();
/// Seconds from 0 (meaning given in the help: "0: none") to a year.
CLI::Validator seconds_or_zero();
/// A port number 1-65535.
CLI::Validator port();
/// A host name or address (check_host_text).
CLI::Validator host();
/// HOST:PORT to connect to (port 1-65535), or with `unix_path_too` also unix:PATH.
CLI::Validator host_port(bool unix_path_too = false);
/// ADDRESS:PORT to listen on (port 0 picks one).
CLI::Validator listen_address();
/// Any text but the empty string (a host, a path, a list).
CLI::Validator non_empty();

}  // namespace sockit::cli::checks
