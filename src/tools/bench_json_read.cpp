#include "tools/bench_json_read.hpp"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

namespace sockit::tools::json_read {
namespace {

[[noreturn]] void wrong(std::string_view what, std::string_view wanted, const nlohmann::json& value) {
  throw std::invalid_argument(fmt::format("'{}' must be {}, not {}", what, wanted, shown(value)));
}

}  // namespace

std::string shown(const nlohmann::json& value) {
  if (value.is_object()) return "an object";
  auto text = value.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
  constexpr std::size_t kShown = 40;
  if (text.size() > kShown) text = text.substr(0, kShown) + "...";
  return std::string(value.type_name()) + " " + text;
}

const nlohmann::json& member(const nlohmann::json& object, std::string_view key) {
  const auto found = object.find(key);
  if (found == object.end()) throw std::invalid_argument(fmt::format("'{}' is missing", key));
  return *found;
}

const nlohmann::json& child(const nlohmann::json& parent, std::string_view key) {
  const auto& value = member(parent, key);
  if (!value.is_object()) wrong(key, "an object", value);
  return value;
}

std::uint64_t add(std::uint64_t a, std::uint64_t b, std::string_view what) {
  std::uint64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) throw std::invalid_argument(fmt::format("{} add up to more than 2^64", what));
  return sum;
}

std::uint64_t whole_value(const nlohmann::json& value, std::string_view what) {
  // nlohmann keeps 0..2^64-1 written without a fraction or exponent as unsigned; anything
  // else (negative, 5.0, 1e3, past 2^64) is another type.
  if (!value.is_number_unsigned()) wrong(what, "a whole number from 0 to 2^64-1", value);
  return value.get<std::uint64_t>();
}

std::uint64_t whole(const nlohmann::json& object, std::string_view key) {
  return whole_value(member(object, key), key);
}

std::uint64_t whole(const nlohmann::json& object, std::string_view key, std::uint64_t max) {
  const auto& value = member(object, key);
  const auto n = whole_value(value, key);
  if (n > max) wrong(key, fmt::format("at most {}", max), value);
  return n;
}

double non_negative(const nlohmann::json& object, std::string_view key) {
  const auto& value = member(object, key);
  if (!value.is_number()) wrong(key, "a number", value);
  const auto n = value.get<double>();
  if (!std::isfinite(n) || n < 0) wrong(key, "a finite number >= 0", value);
  return n;
}

std::string text(const nlohmann::json& object, std::string_view key, std::size_t max_length) {
  const auto& value = member(object, key);
  if (!value.is_string()) wrong(key, "a string", value);
  const auto& s = value.get_ref<const std::string&>();
  if (s.size() > max_length) wrong(key, fmt::format("at most {} bytes long", max_length), value);
  return s;
}

}  // namespace sockit::tools::json_read
