#include "tools/bench_workload.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "net/byte_order.hpp"

namespace sockit::tools {
namespace {

constexpr std::array<std::pair<Workload, std::string_view>, 8> kNames{{
    {Workload::echo, "echo"},
    {Workload::fib, "fib"},
    {Workload::time, "time"},
    {Workload::daytime, "daytime"},
    {Workload::connect, "connect"},
    {Workload::stream, "stream"},
    {Workload::raw, "raw"},
    {Workload::http, "http"},
}};

constexpr std::size_t kDefaultSize = 64;
constexpr std::size_t kDefaultStreamSize = std::size_t{1} << 20;

bool printable_line(std::string_view line) {
  if (line.empty() || line.back() != '\n') return false;
  line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return !line.empty() && std::all_of(line.begin(), line.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// RFC 868: seconds since 1900-01-01 00:00 UTC, 32 bits. Within a day of our clock is right
// (same machine, or one whose clock is roughly set).
bool plausible_time(std::string_view reply) {
  if (reply.size() != 4) return false;
  const auto value = net::load_u32(reinterpret_cast<const std::byte*>(reply.data()));
  constexpr std::int64_t kEpochDelta = 2208988800;  // 1900 -> 1970
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const std::int64_t expected = (now + kEpochDelta) & 0xffffffff;
  std::int64_t diff = static_cast<std::int64_t>(value) - expected;
  if (diff > 0x80000000LL) diff -= 0x100000000LL;
  if (diff < -0x80000000LL) diff += 0x100000000LL;
  return diff > -86400 && diff < 86400;
}

}  // namespace

std::string_view workload_name(Workload workload) noexcept {
  for (const auto& [w, name] : kNames)
    if (w == workload) return name;
  return "?";
}

std::optional<Workload> parse_workload(std::string_view name) noexcept {
  for (const auto& [w, n] : kNames)
    if (n == name) return w;
  return std::nullopt;
}

std::string fibonacci_text(unsigned n) {
  // Little-endian decimal digits.
  std::string a = "0", b = "1";
  for (unsigned i = 0; i < n; ++i) {
    std::string sum;
    int carry = 0;
    for (std::size_t d = 0; d < std::max(a.size(), b.size()) || carry; ++d) {
      const int digit = (d < a.size() ? a[d] - '0' : 0) + (d < b.size() ? b[d] - '0' : 0) + carry;
      sum.push_back(static_cast<char>('0' + digit % 10));
      carry = digit / 10;
    }
    a = std::move(b);
    b = std::move(sum);
  }
  return {a.rbegin(), a.rend()};
}

std::string echo_payload(std::size_t size) {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string payload(size, ' ');
  // 61 is prime and not a divisor of any power of two, so a shifted or dropped byte shows.
  for (std::size_t i = 0; i < size; ++i) payload[i] = kAlphabet[i % 61];
  return payload;
}

std::string decode_escapes(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
      continue;
    }
    if (++i == text.size()) throw std::invalid_argument("escape at the end of '" + std::string(text) + "'");
    switch (text[i]) {
      case 'r': out.push_back('\r'); break;
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case '0': out.push_back('\0'); break;
      case '\\': out.push_back('\\'); break;
      case 'x': {
        if (i + 2 >= text.size())
          throw std::invalid_argument("\\x needs two hex digits in '" + std::string(text) + "'");
        unsigned value = 0;
        for (int k = 0; k < 2; ++k) {
          const char c = text[++i];
          value <<= 4;
          if (c >= '0' && c <= '9') value |= static_cast<unsigned>(c - '0');
          else if (c >= 'a' && c <= 'f') value |= static_cast<unsigned>(c - 'a' + 10);
          else if (c >= 'A' && c <= 'F') value |= static_cast<unsigned>(c - 'A' + 10);
          else throw std::invalid_argument("\\x needs two hex digits in '" + std::string(text) + "'");
        }
        out.push_back(static_cast<char>(value));
        break;
      }
      default:
        throw std::invalid_argument(std::string("unknown escape \\") + text[i] + " in '" + std::string(text) + "'");
    }
  }
  return out;
}

Exchange make_exchange(const WorkloadOptions& o) {
  Exchange x;
  x.udp = o.udp;
  const auto reject_udp = [&] {
    if (o.udp) throw std::invalid_argument(std::string(workload_name(o.workload)) + " has no UDP form");
  };
  switch (o.workload) {
    case Workload::echo:
    case Workload::connect:
    case Workload::stream: {
      if (o.workload != Workload::echo) reject_udp();
      const std::size_t size = o.size ? o.size : (o.workload == Workload::stream ? kDefaultStreamSize : kDefaultSize);
      if (o.udp && size > 65507) throw std::invalid_argument("a UDP echo message is at most 65507 bytes");
      x.request = echo_payload(size);
      x.expect.mode = Expectation::Mode::exact;
      x.expect.bytes = x.request;
      x.connection_per_request = o.workload == Workload::connect;
      break;
    }
    case Workload::fib:
      reject_udp();
      x.request = std::to_string(o.fib_n) + "\n";
      x.expect.mode = Expectation::Mode::exact;
      x.expect.bytes = fibonacci_text(o.fib_n) + "\n";
      break;
    case Workload::time:
      // Over UDP any datagram asks for the time (RFC 868); over TCP the server speaks first.
      if (o.udp) x.request.push_back('\n');
      x.expect.mode = Expectation::Mode::count;
      x.expect.count = 4;
      x.expect.valid = plausible_time;
      x.connection_per_request = !o.udp;
      break;
    case Workload::daytime:
      if (o.udp) x.request.push_back('\n');  // (a plain assignment trips g++ 12's -Wrestrict at -O3)
      x.expect.mode = Expectation::Mode::line;
      x.expect.valid = printable_line;
      x.connection_per_request = !o.udp;
      break;
    case Workload::raw:
      if (o.send.empty()) throw std::invalid_argument("raw needs --send");
      x.request = o.send;
      if (!o.expect.empty()) {
        x.expect.mode = Expectation::Mode::exact;
        x.expect.bytes = o.expect;
      } else if (o.expect_bytes > 0) {
        x.expect.mode = Expectation::Mode::count;
        x.expect.count = o.expect_bytes;
      } else {
        throw std::invalid_argument("raw needs --expect or --expect-bytes");
      }
      break;
    case Workload::http:
      reject_udp();
      if (o.method != "GET" && o.method != "HEAD") throw std::invalid_argument("--method is GET or HEAD");
      if (o.url.host.empty()) throw std::invalid_argument("http needs a URL: http://HOST:PORT/PATH");
      // What wrk sends: the request line and Host, nothing else (keep-alive is HTTP/1.1's default).
      x.request = o.method + " " + o.url.path + " HTTP/1.1\r\nHost: " + o.url.authority + "\r\n\r\n";
      x.expect.mode = Expectation::Mode::http;
      x.expect.head_request = o.method == "HEAD";
      break;
  }
  return x;
}

ReplyMatcher::Step ReplyMatcher::feed(net::ConstBytes bytes) {
  const char* data = reinterpret_cast<const char*>(bytes.data());
  const Expectation& e = *expect_;
  switch (e.mode) {
    case Expectation::Mode::exact: {
      const std::size_t take = std::min(bytes.size(), e.bytes.size() - seen_);
      if (std::memcmp(data, e.bytes.data() + seen_, take) != 0) return {take, ReplyStatus::wrong};
      seen_ += take;
      done_ = seen_ == e.bytes.size();
      return {take, done_ ? ReplyStatus::matched : ReplyStatus::incomplete};
    }
    case Expectation::Mode::count: {
      const std::size_t take = std::min(bytes.size(), e.count - seen_);
      if (e.valid) collected_.append(data, take);
      seen_ += take;
      if (seen_ < e.count) return {take, ReplyStatus::incomplete};
      done_ = !e.valid || e.valid(collected_);
      return {take, done_ ? ReplyStatus::matched : ReplyStatus::wrong};
    }
    case Expectation::Mode::line: {
      const void* newline = std::memchr(data, '\n', bytes.size());
      const std::size_t take = newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - data) + 1 : bytes.size();
      collected_.append(data, take);
      seen_ += take;
      if (collected_.size() > e.max_line) return {take, ReplyStatus::wrong};
      if (!newline) return {take, ReplyStatus::incomplete};
      done_ = e.valid ? e.valid(collected_) : true;
      return {take, done_ ? ReplyStatus::matched : ReplyStatus::wrong};
    }
    case Expectation::Mode::http: {
      const auto step = http_.feed(bytes);
      return {step.used, step.status == HttpResponseParser::Status::complete ? ReplyStatus::matched
                         : step.status == HttpResponseParser::Status::bad    ? ReplyStatus::wrong
                                                                              : ReplyStatus::incomplete};
    }
  }
  return {0, ReplyStatus::wrong};
}

std::size_t ReplyMatcher::progress() const noexcept {
  return expect_->mode == Expectation::Mode::http ? static_cast<std::size_t>(http_.progress()) : seen_;
}

ReplyStatus ReplyMatcher::finish() {
  if (expect_->mode == Expectation::Mode::http)
    return http_.finish() == HttpResponseParser::Status::complete ? ReplyStatus::matched : ReplyStatus::wrong;
  if (done_) return ReplyStatus::matched;
  if (expect_->mode == Expectation::Mode::line && seen_ > 0) {
    // A last line without "\n" (a datagram, or a server that closes right after it).
    collected_.push_back('\n');
    done_ = !expect_->valid || expect_->valid(collected_);
    return done_ ? ReplyStatus::matched : ReplyStatus::wrong;
  }
  return ReplyStatus::wrong;
}

void ReplyMatcher::reset() noexcept {
  http_.reset();
  seen_ = 0;
  done_ = false;
  collected_.clear();
}

}  // namespace sockit::tools
