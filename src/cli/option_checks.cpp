#include "cli/option_checks.hpp"

#include "net/address.hpp"

#include <arpa/inet.h>
#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace sockit::cli::checks {
namespace {

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A number below the least allowed: "greater than 0" reads better than "at least 1".
std::string below(double min, bool above_min, bool whole, std::string_view got) {
  if (whole && min == 1) return fmt::format("must be greater than 0 (got {})", got);
  if (above_min) return fmt::format("must be greater than {} (got {})", min, got);
  if (min == 0) return fmt::format("must not be negative (got {})", got);
  return fmt::format("must be at least {} (got {})", min, got);
}

}  // namespace

std::string check_whole(std::string& text, std::uint64_t min, std::uint64_t max) {
  if (text.empty()) return "must be a whole number, not empty";
  if (text.front() == '-' && all_digits(std::string_view(text).substr(1)))
    return below(static_cast<double>(min), false, true, text);
  if (!all_digits(text)) return fmt::format("'{}' is not a whole number", text);
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range || value > max) return fmt::format("must be at most {} (got {})", max, text);
  if (ec != std::errc{} || end != text.data() + text.size()) return fmt::format("'{}' is not a whole number", text);
  if (value < min) return below(static_cast<double>(min), false, true, text);
  text = std::to_string(value);  // "010" is ten, whatever base CLI11 would have guessed
  return {};
}

std::string check_real(std::string& text, double min, bool above_min, double max) {
  if (text.empty()) return "must be a number, not empty";
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (end != text.data() + text.size() || (ec != std::errc{} && ec != std::errc::result_out_of_range))
    return fmt::format("'{}' is not a number", text);
  if (ec == std::errc::result_out_of_range) {
    // Too big for a double, or so small it rounds to zero.
    const bool tiny = text.find("e-") != std::string::npos || text.find("E-") != std::string::npos;
    value = tiny ? 0.0 : text.front() == '-' ? -HUGE_VAL : HUGE_VAL;
  }
  if (std::isnan(value)) return fmt::format("'{}' is not a number", text);
  if (value < min || (above_min && value == min)) return below(min, above_min, false, text);
  if (std::isinf(value)) return fmt::format("must be a finite number (got {})", text);
  if (value > max) return fmt::format("must be at most {} (got {})", max, text);
  text = fmt::format("{}", value);
  return {};
}

std::string check_port_text(std::string_view text, bool zero_picks_one) {
  if (text.empty()) return "a port must not be empty";
  if (all_digits(text) || (text.front() == '-' && all_digits(text.substr(1)))) {
    std::string number(text);
    if (check_whole(number, zero_picks_one ? 0 : 1, 65535).empty()) return {};
    return fmt::format("port {} is not from {} to 65535", text, zero_picks_one ? 0 : 1);
  }
  const bool name = std::isalpha(static_cast<unsigned char>(text.front())) &&
                    std::all_of(text.begin(), text.end(), [](char c) {
                      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '+';
                    });
  if (!name) return fmt::format("'{}' is not a port number or a service name", text);
  return {};
}

std::string check_host_text(std::string_view text) {
  if (text.empty()) return "a host must not be empty";
  const std::string host(text.substr(0, text.find('%')));  // fe80::1%eth0: the zone is the kernel's
  in_addr v4{};
  in6_addr v6{};
  if (::inet_aton(host.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return {};
  const auto last_label = text.substr(text.rfind('.') == std::string_view::npos ? 0 : text.rfind('.') + 1);
  const bool name_characters = std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  const bool dotted_number = all_digits(last_label);  // 300.1.1.1: no IPv4, and no name either
  if (!name_characters || dotted_number || text.front() == '-' || text.front() == '.' ||
      text.find("..") != std::string_view::npos || text.size() > 253)
    return fmt::format("'{}' is not a host name or an IP address", text);
  return {};
}

std::string check_host_port_text(std::string_view text, bool zero_picks_one) {
  if (text.empty()) return "must not be empty (HOST:PORT)";
  const auto parts = net::split_host_port(text);
  if (!parts) return fmt::format("'{}' is not HOST:PORT ({})", text, parts.error().detail());
  if (auto problem = check_host_text(parts->host); !problem.empty()) return problem;
  return check_port_text(parts->port, zero_picks_one);
}

std::string whole_description(std::uint64_t min, std::uint64_t max, bool max_is_the_types) {
  if (!max_is_the_types) return fmt::format("{}-{}", min, max);
  return min == 0 ? "NONNEGATIVE" : min == 1 ? "POSITIVE" : fmt::format("AT LEAST {}", min);
}

CLI::Validator host() {
  return CLI::Validator([](std::string& text) { return check_host_text(text); }, "");
}

CLI::Validator positive(double max) {
  return CLI::Validator([max](std::string& text) { return check_real(text, 0, true, max); }, "POSITIVE");
}

CLI::Validator between(double min, double max) {
  return CLI::Validator([min, max](std::string& text) { return check_real(text, min, false, max); },
                        fmt::format("{}-{}", min, max));
}

CLI::Validator positive_seconds() { return positive(kMaxSeconds); }

CLI::Validator seconds_or_zero() {
  return CLI::Validator([](std::string& text) { return check_real(text, 0, false, kMaxSeconds); }, "NONNEGATIVE");
}

CLI::Validator port() { return whole<unsigned>(1, 65535); }

CLI::Validator host_port(bool unix_path_too) {
  return CLI::Validator(
      [unix_path_too](std::string& text) {
        if (unix_path_too && text.starts_with("unix:"))
          return text.size() > 5 ? std::string() : std::string("unix: needs a path");
        return check_host_port_text(text, false);
      },
      unix_path_too ? "HOST:PORT|unix:PATH" : "HOST:PORT");
}

CLI::Validator listen_address() {
  return CLI::Validator([](std::string& text) { return check_host_port_text(text, true); }, "ADDR:PORT");
}

CLI::Validator non_empty() {
  return CLI::Validator([](std::string& text) { return text.empty() ? std::string("must not be empty") : std::string(); },
                        "");
}

}  // namespace sockit::cli::checks
