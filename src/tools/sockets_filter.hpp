#pragma once

// ss's FILTER words, `[state S | exclude S]... [EXPRESSION]`, parsed without I/O into the state
// set and the bytecode the kernel filters with.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sockit::tools {

struct SocketFilter {
  std::optional<std::uint32_t> states;  ///< state_bit()s from state/exclude words; nullopt: none given
  std::vector<std::byte> bytecode;      ///< the expression as inet_diag bytecode; empty: no expression
};

/// Why a filter was refused: the offending token ("" when the words ended too soon) and what
/// was expected instead.
struct FilterError {
  std::string token;
  std::string reason;
};

/// Bounds on hostile input: parentheses and `not`s nested deeper, or more tokens, are refused.
constexpr int kMaxFilterNesting = 32;
constexpr std::size_t kMaxFilterTokens = 1024;

/// Parses the words after ss's options (a word may hold several tokens: "sport = :22" as one
/// word or three). Addresses and ports are numeric; see docs/tools.md for the grammar.
std::variant<SocketFilter, FilterError> parse_socket_filter(std::span<const std::string> words);

/// The states one ss state name or group stands for: a state ("established", "listening",
/// "time-wait", ...) or "all", "connected", "synchronized", "bucket", "big".
std::optional<std::uint32_t> parse_state_set(std::string_view name);

}  // namespace sockit::tools
