#pragma once

#include <utility>
#include <optional>
#include <variant>

#include "net/error.hpp"

namespace sockit::net {

/// A value or the Error that prevented it; shaped like C++23's std::expected<T, Error> so the
/// switch is a rename. value() throws the Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& operator*() & { return std::get<0>(state_); }
  const T& operator*() const& { return std::get<0>(state_); }
  // By value, unlike std::expected: `for (auto& x : f().value())` must not iterate over a member
  // of a temporary that is already gone.
  T operator*() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }

  T& value() & {
    if (!has_value()) throw error();
    return **this;
  }
  const T& value() const& {
    if (!has_value()) throw error();
    return **this;
  }
  T value() && {
    if (!has_value()) throw error();
    return std::get<0>(std::move(state_));
  }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::in_place, std::move(error)) {}

  bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (error_) throw *error_;
  }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace sockit::net
