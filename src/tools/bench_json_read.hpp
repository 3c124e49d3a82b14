#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace sockit::tools::json_read {

/// Typed reads of a member of an untrusted JSON object (a report `bench merge` reads). Each
/// throws std::invalid_argument naming the member and what is wrong with it: missing, of another
/// type, negative, not finite, too long.

/// The member `key` of `object`, whatever its type (`object` must be an object).
const nlohmann::json& member(const nlohmann::json& object, std::string_view key);
/// A member that is an object.
const nlohmann::json& child(const nlohmann::json& object, std::string_view key);
/// A whole number from 0 to 2^64 - 1 (5.0 and -1 are refused).
std::uint64_t whole(const nlohmann::json& object, std::string_view key);
/// A whole number from 0 to `max`.
std::uint64_t whole(const nlohmann::json& object, std::string_view key, std::uint64_t max);
/// A finite number >= 0.
double non_negative(const nlohmann::json& object, std::string_view key);
/// A string of at most `max_length` bytes.
std::string text(const nlohmann::json& object, std::string_view key, std::size_t max_length);

/// a + b, counts read from untrusted files: throws std::invalid_argument naming `what` when the
/// sum passes 2^64 - 1.
std::uint64_t add(std::uint64_t a, std::uint64_t b, std::string_view what);

/// What `value` is, for a message: its type and (shortened) text: `number -1`, `an object`.
std::string shown(const nlohmann::json& value);

/// `value` as a whole number (for array elements), `what` naming it in the error.
std::uint64_t whole_value(const nlohmann::json& value, std::string_view what);

}  // namespace sockit::tools::json_read
