#include "tools/sockets_filter.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "tools/sockets.hpp"
#include "tools/sockets_bytecode.hpp"

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

std::optional<int> whole_number(std::string_view text, int max) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < 0 || value > max)
    return std::nullopt;
  return value;
}

// "ADDRESS[/LENGTH]" of one family; "*" or "" is any address.
bool parse_address(std::string_view text, HostCondition& host) {
  if (text.empty() || text == "*") return true;
  std::string_view address = text;
  std::optional<int> length;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    length = whole_number(text.substr(slash + 1), 128);
    if (!length) return false;
  }
  const std::string copy(address);
  for (int family : {AF_INET, AF_INET6}) {
    if (::inet_pton(family, copy.c_str(), host.address.data()) != 1) continue;
    const int bits = family == AF_INET ? 32 : 128;
    if (length && *length > bits) return false;
    host.family = family;
    host.prefix_length = length.value_or(bits);
    return true;
  }
  return false;
}

// The ":PORT" after a HOST: a number or "*" (any port).
bool parse_host_port(std::string_view port, HostCondition& host) {
  if (port == "*") return true;
  const auto number = whole_number(port, 65535);
  if (!number) return false;
  host.port = *number;
  return true;
}

// ss's HOST: "*", "127.0.0.1", "10.0.0.0/8", "127.0.0.1:22", "*:22", ":22", "[::1]:22",
// "[fe80::]/10", "[fe80::/10]:22", "::1" (an IPv6 address without brackets takes no port).
bool parse_host(std::string_view text, HostCondition& host) {
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    std::string address(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (rest.starts_with('/')) {  // "[fe80::]/10", "[fe80::]/10:22"
      if (address.find('/') != std::string::npos) return false;
      const auto colon = std::min(rest.find(':'), rest.size());
      address += rest.substr(0, colon);
      rest.remove_prefix(colon);
    }
    if (!parse_address(address, host) || host.family != AF_INET6) return false;
    if (rest.empty()) return true;
    return rest.starts_with(':') && parse_host_port(rest.substr(1), host);
  }
  if (std::count(text.begin(), text.end(), ':') >= 2) return parse_address(text, host) && host.family == AF_INET6;
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return parse_address(text, host);
  return parse_address(text.substr(0, colon), host) && host.family != AF_INET6 &&
         parse_host_port(text.substr(colon + 1), host);
}

// ":22", "*:22" or "22" for sport/dport.
std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.starts_with("*:")) text.remove_prefix(2);
  else if (text.starts_with(':')) text.remove_prefix(1);
  const auto number = whole_number(text, 65535);
  if (!number) return std::nullopt;
  return static_cast<std::uint16_t>(*number);
}

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
      if (text.empty() || !parse_host(text, node.host))
        fail(text, "expected an address like 127.0.0.1, 10.0.0.0/8, [::1]:22 or *:22");
      return negated ? negation(std::move(node)) : node;
    }
    if (what == "sport" || what == "dport") {
      Comparison comparison = Comparison::kEqual;
      if (const auto c = comparison_of(peek())) comparison = *c, next();
      const std::string text = next();
      const auto port = parse_port(text);
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
