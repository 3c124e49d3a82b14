#include "tools/sockets_filter.hpp"

#include <cctype>

#include "tools/sockets.hpp"
#include "tools/sockets_bytecode.hpp"
#include "tools/sockets_host.hpp"

namespace sockit::tools {
namespace {

using Kind = FilterNode::Kind;

bool is_operator_char(char c) { return c == '<' || c == '>' || c == '=' || c == '!' || c == '&' || c == '|'; }

// Splits words into tokens: "(" and ")" alone, runs of <>=!&| together, anything else up to
// a space, a parenthesis or an operator character ("sport>=:1024" is three tokens).
std::vector<std::string> tokens_of(std::span<const std::string> words) {
  std::vector<std::string> tokens;
  for (const auto& word : words) {
    for (std::size_t i = 0; i < word.size();) {
      const char c = word[i];
      std::size_t end = i + 1;
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      if (c == '(' || c == ')') {
        // a token of its own
      } else if (is_operator_char(c)) {
        while (end < word.size() && is_operator_char(word[end])) ++end;
      } else {
        while (end < word.size() && !std::isspace(static_cast<unsigned char>(word[end])) && word[end] != '(' &&
               word[end] != ')' && !is_operator_char(word[end]))
          ++end;
      }
      tokens.push_back(word.substr(i, end - i));
      i = end;
    }
  }
  return tokens;
}

enum class Comparison { kEqual, kNotEqual, kLess, kLessOrEqual, kGreater, kGreaterOrEqual };

std::optional<Comparison> comparison_of(std::string_view t) {
  if (t == "=" || t == "==" || t == "eq") return Comparison::kEqual;
  if (t == "!=" || t == "ne" || t == "neq") return Comparison::kNotEqual;
  if (t == "<" || t == "lt") return Comparison::kLess;
  if (t == "<=" || t == "le" || t == "leq") return Comparison::kLessOrEqual;
  if (t == ">" || t == "gt") return Comparison::kGreater;
  if (t == ">=" || t == "ge" || t == "geq") return Comparison::kGreaterOrEqual;
  return std::nullopt;
}

bool is_or(std::string_view t) { return t == "or" || t == "|" || t == "||"; }
bool is_and(std::string_view t) { return t == "and" || t == "&" || t == "&&"; }
bool is_not(std::string_view t) { return t == "not" || t == "!"; }

FilterNode node_of(Kind kind, std::vector<FilterNode> children) {
  FilterNode node;
  node.kind = kind;
  node.children = std::move(children);
  return node;
}

FilterNode negation(FilterNode inner) { return node_of(Kind::kNot, {std::move(inner)}); }

struct Failure {
  FilterError error;
};

class Parser {
 public:
  explicit Parser(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}

  SocketFilter parse() {
    SocketFilter filter;
    while (peek() == "state" || peek() == "exclude" || peek() == "excl") {
      const bool exclude = next() != "state";
      const auto name = next();
      const auto set = parse_state_set(name);
      if (!set) fail(name, "expected a state name: established, listening, connected, all, ...");
      if (!filter.states) filter.states = exclude ? kAllStates : 0;
      filter.states = exclude ? (*filter.states & ~*set) : (*filter.states | *set);
    }
    if (at_end()) return filter;
    const FilterNode expression = parse_or(0);
    if (!at_end()) fail(peek(), peek() == ")" ? "a ')' without its '('" : "expected 'and', 'or' or the end");
    filter.bytecode = compile_filter(expression);
    return filter;
  }

 private:
  bool at_end() const { return position_ >= tokens_.size(); }
  std::string peek() const { return at_end() ? std::string() : tokens_[position_]; }
  std::string next() { return at_end() ? std::string() : tokens_[position_++]; }
  [[noreturn]] static void fail(std::string token, std::string reason) {
    throw Failure{{std::move(token), std::move(reason)}};
  }

  static FilterNode joined(Kind kind, std::vector<FilterNode> parts) {
    return parts.size() == 1 ? std::move(parts.front()) : node_of(kind, std::move(parts));
  }

  FilterNode parse_or(int depth) {
    std::vector<FilterNode> parts;
    parts.push_back(parse_and(depth));
    while (is_or(peek())) {
      next();
      parts.push_back(parse_and(depth));
    }
    return joined(Kind::kOr, std::move(parts));
  }

  // "a b" is "a and b", as in ss.
  FilterNode parse_and(int depth) {
    std::vector<FilterNode> parts;
    parts.push_back(parse_unary(depth));
    for (;;) {
      if (is_and(peek())) {
        next();
      } else if (at_end() || is_or(peek()) || peek() == ")") {
        break;
      }
      parts.push_back(parse_unary(depth));
    }
    return joined(Kind::kAnd, std::move(parts));
  }

  FilterNode parse_unary(int depth) {
    const std::string token = peek();
    if (is_not(token) || token == "(") {
      if (depth >= kMaxFilterNesting)
        fail(token, "nested deeper than " + std::to_string(kMaxFilterNesting) + " levels");
      next();
      if (is_not(token)) return negation(parse_unary(depth + 1));
      if (peek() == ")") fail(")", "an empty '( )'");
      FilterNode inner = parse_or(depth + 1);
      if (next() != ")") fail(at_end() ? "" : tokens_[position_ - 1], "expected ')'");
      return inner;
    }
    return parse_predicate();
  }

  FilterNode parse_predicate() {
    const std::string what = next();
    if (what == "src" || what == "dst") {
      bool negated = false;
      if (const auto c = comparison_of(peek())) {
        if (*c != Comparison::kEqual && *c != Comparison::kNotEqual) fail(peek(), "expected '=' or '!=' after " + what);
        negated = *c == Comparison::kNotEqual;
        next();
      }
      const std::string text = next();
      FilterNode node;
      node.kind = what == "src" ? Kind::kSource : Kind::kDestination;
      if (text.empty() || !parse_filter_host(text, node.host))
        fail(text, "expected an address like 127.0.0.1, 10.0.0.0/8, [::1]:22 or *:22");
      return negated ? negation(std::move(node)) : node;
    }
    if (what == "sport" || what == "dport") {
      Comparison comparison = Comparison::kEqual;
      if (const auto c = comparison_of(peek())) comparison = *c, next();
      const std::string text = next();
      const auto port = parse_filter_port(text);
      if (!port) fail(text, "expected a port like :22");
      return port_condition(what == "sport", comparison, *port);
    }
    if (what.empty()) fail("", "the expression ended too soon");
    fail(what, "expected src, dst, sport, dport, not or '('");
  }

  // ss's rewrites: "!=" is not "=", ">" is not "<=", "<" is not ">=".
  static FilterNode port_condition(bool source, Comparison comparison, std::uint16_t port) {
    FilterNode node;
    switch (comparison) {
      case Comparison::kEqual:
      case Comparison::kNotEqual:
        node.kind = source ? Kind::kSource : Kind::kDestination;
        node.host.port = port;
        return comparison == Comparison::kEqual ? node : negation(std::move(node));
      case Comparison::kGreaterOrEqual:
      case Comparison::kLess:
        node.kind = source ? Kind::kSourcePortAtLeast : Kind::kDestinationPortAtLeast;
        node.port = port;
        return comparison == Comparison::kGreaterOrEqual ? node : negation(std::move(node));
      case Comparison::kLessOrEqual:
      case Comparison::kGreater:
        node.kind = source ? Kind::kSourcePortAtMost : Kind::kDestinationPortAtMost;
        node.port = port;
        return comparison == Comparison::kLessOrEqual ? node : negation(std::move(node));
    }
    return node;
  }

  std::vector<std::string> tokens_;
  std::size_t position_ = 0;
};

}  // namespace

std::variant<SocketFilter, FilterError> parse_socket_filter(std::span<const std::string> words) {
  auto tokens = tokens_of(words);
  if (tokens.size() > kMaxFilterTokens)
    return FilterError{tokens[kMaxFilterTokens], "more than " + std::to_string(kMaxFilterTokens) + " tokens"};
  try {
    return Parser(std::move(tokens)).parse();
  } catch (const Failure& failure) {
    return failure.error;
  }
}

std::optional<std::uint32_t> parse_state_set(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::uint32_t bucket = state_bit(TCP_SYN_RECV) | state_bit(TCP_TIME_WAIT);
  const std::uint32_t connected = kAllStates & ~(state_bit(TCP_LISTEN) | state_bit(TCP_CLOSE));
  if (lower == "all") return kAllStates;
  if (lower == "connected") return connected;
  if (lower == "synchronized") return connected & ~state_bit(TCP_SYN_SENT);
  if (lower == "bucket") return bucket;
  if (lower == "big") return kAllStates & ~bucket;
  if (const auto state = parse_socket_state(name)) return state_bit(*state);
  return std::nullopt;
}

}  // namespace sockit::tools
