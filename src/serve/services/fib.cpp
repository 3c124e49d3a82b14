// The notes' Fibonacci service (Herfet et al., "Socket Debugging, Server Design and Special
// Functions", port 9000): the client sends a number n as a line ending in "\n" or "\0" and the
// server answers fib(n) in decimal. Unlike the notes' server, a connection carries many requests,
// each answer ends in "\n", the answer is exact for 0 <= n <= 10000 (big numbers added
// iteratively), and bad input (an empty line too) gets one "ERR ..." line while the connection
// stays usable.
// --algorithm recursive keeps the notes' exponential fib(n-1) + fib(n-2) in 64 bits (n <= 40) for
// the server-design measurements; those sessions declare themselves CPU-bound.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/text.hpp"
#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

enum class Algorithm { iterative, recursive };

constexpr std::uint64_t kIterativeMax = 10000;
constexpr std::uint64_t kRecursiveMax = 40;  // fib(40) takes about a second this way
constexpr std::size_t kShownMax = 40;        // how much of a bad request an ERR line repeats

// A natural number in base 10^18, least significant limb first.
class BigNatural {
 public:
  explicit BigNatural(std::uint64_t value) : limbs_{value} {}

  BigNatural& operator+=(const BigNatural& other) {
    if (limbs_.size() < other.limbs_.size()) limbs_.resize(other.limbs_.size(), 0);
    std::uint64_t carry = 0;
    std::size_t i = 0;
    for (; i < other.limbs_.size(); ++i) {
      // Two limbs below 10^18 and a carry of 1 sum to below 2^64.
      const auto sum = limbs_[i] + other.limbs_[i] + carry;
      carry = sum >= kBase ? 1 : 0;
      limbs_[i] = sum - carry * kBase;
    }
    for (; carry != 0 && i < limbs_.size(); ++i) {
      const auto sum = limbs_[i] + carry;
      carry = sum >= kBase ? 1 : 0;
      limbs_[i] = sum - carry * kBase;
    }
    if (carry != 0) limbs_.push_back(carry);
    return *this;
  }

  std::string decimal() const {
    std::string text = std::to_string(limbs_.back());
    for (auto it = limbs_.rbegin() + 1; it != limbs_.rend(); ++it) {
      const auto limb = std::to_string(*it);
      text.append(kDigits - limb.size(), '0');
      text += limb;
    }
    return text;
  }

 private:
  static constexpr std::uint64_t kBase = 1'000'000'000'000'000'000;
  static constexpr std::size_t kDigits = 18;
  std::vector<std::uint64_t> limbs_;
};

std::string fib_iterative(std::uint64_t n) {
  BigNatural a(0);
  BigNatural b(1);
  for (std::uint64_t i = 0; i < n; ++i) {
    a += b;  // (a, b) becomes (b, a + b)
    std::swap(a, b);
  }
  return a.decimal();
}

// The notes' definition, exponential on purpose.
std::uint64_t fib_recursive(std::uint64_t n) {
  if (n == 0) return 0;
  if (n == 1) return 1;
  return fib_recursive(n - 1) + fib_recursive(n - 2);
}

// A bad request as an ERR line and a log line may show it: printable, and not too long.
std::string shown(std::string_view text) { return net::printable(text, kShownMax); }

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

class FibSession : public Session {
 public:
  FibSession(Algorithm algorithm, std::size_t max_line) : algorithm_(algorithm), max_line_(max_line) {}

  Taken receive(std::span<const std::byte> in, Output& out) override {
    std::string_view text(reinterpret_cast<const char*>(in.data()), in.size());
    static constexpr std::string_view kTerminators("\n\0", 2);
    while (!text.empty()) {
      if (out.full()) return {in.size() - text.size()};  // the next request waits for room
      const auto end = text.find_first_of(kTerminators);
      const auto piece = text.substr(0, end);
      if (!discarding_) {
        if (line_.size() + piece.size() > max_line_) {
          reject(out, "line too long (max " + std::to_string(max_line_) + " bytes)");
          line_.clear();
          discarding_ = true;  // the rest of this line, up to its terminator
        } else {
          line_ += piece;
        }
      }
      if (end == std::string_view::npos) break;
      // A NUL right after a newline ends the same request: a C client that sends "10\n" with
      // its string's terminator asks one question, not two.
      const bool terminator_only = piece.empty() && text[end] == '\0' && after_newline_;
      if (!discarding_ && !terminator_only) answer(line_, out);
      after_newline_ = text[end] == '\n';
      line_.clear();
      discarding_ = false;
      text.remove_prefix(end + 1);
    }
    if (!in.empty() && !text.empty()) after_newline_ = false;
    return {in.size()};
  }

  // A last request without its terminator is still answered.
  Verdict end_of_input(Output& out) override {
    if (!discarding_ && !line_.empty()) answer(line_, out);
    line_.clear();
    return Verdict::close;
  }

  bool mid_request() const noexcept override { return !line_.empty() || discarding_; }
  void request_timed_out(std::string_view problem, Output& out) override { out.append(err_line(problem)); }

  bool cpu_bound() const noexcept override { return algorithm_ == Algorithm::recursive; }
  std::size_t requests() const noexcept override { return answered_; }

 private:
  void answer(std::string_view line, Output& out) {
    const auto request = trimmed(line);
    // An empty line gets an answer too: a client that waits for one answer per line (the
    // notes' clients, sockit client) would otherwise wait for ever.
    if (request.empty()) return reject(out, "empty request");
    auto digits = request;
    const bool negative = digits.front() == '-';
    if (negative || digits.front() == '+') digits.remove_prefix(1);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return reject(out, "not a number: " + shown(request));
    }
    const auto first = digits.find_first_not_of('0');
    digits = first == std::string_view::npos ? std::string_view("0") : digits.substr(first);
    if (negative && digits != "0") return reject(out, "negative: " + shown(request));

    const auto max = algorithm_ == Algorithm::recursive ? kRecursiveMax : kIterativeMax;
    std::uint64_t n = 0;
    for (char c : digits) {
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
      if (n > max) break;  // stops long before 64 bits overflow
    }
    if (n > max) {
      return reject(out, "too large: " + shown(request) + " (max " + std::to_string(max) +
                             (algorithm_ == Algorithm::recursive ? " with --algorithm recursive)" : ")"));
    }
    out.append(algorithm_ == Algorithm::recursive ? std::to_string(fib_recursive(n)) : fib_iterative(n));
    out.append("\n");
    ++answered_;
  }

  static std::string err_line(std::string_view problem) { return "ERR " + std::string(problem) + "\n"; }

  void reject(Output& out, const std::string& problem) {
    out.append(err_line(problem));
    complaints().push_back(problem);
    ++answered_;
  }

  Algorithm algorithm_;
  std::size_t max_line_;
  std::string line_;         // the request so far, without its terminator
  bool discarding_ = false;  // skipping the rest of a line that was too long
  bool after_newline_ = false;  // the last byte taken ended a request with '\n'
  std::size_t answered_ = 0;
};

class FibService : public Service {
 public:
  explicit FibService(Algorithm algorithm) : algorithm_(algorithm) {}
  std::string_view name() const noexcept override { return "fib"; }
  std::unique_ptr<Session> new_session(const SessionContext& context) const override {
    return std::make_unique<FibSession>(algorithm_, context.max_line);
  }
  std::string refusal_answer(ConnectionRefusal, std::string_view reason) const override {
    return refusal_line(reason, "\n");
  }

 private:
  Algorithm algorithm_;
};

}  // namespace

std::unique_ptr<Service> make_fib_tcp(const ServiceOptions& options) {
  return std::make_unique<FibService>(options.fib_algorithm == "recursive" ? Algorithm::recursive
                                                                           : Algorithm::iterative);
}

}  // namespace sockit::serve::services
