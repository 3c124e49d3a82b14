#include "tools/http_response.hpp"

#include <algorithm>
#include <cstring>

#include "http/syntax.hpp"

namespace sockit::tools {
namespace {

using http::iequals;
using http::is_field_value;
using http::is_ows;
using http::is_token;
using http::trim_ows;

// The next line of `text` from `at` without its "\n" (and a "\r" before it); moves `at` past it.
std::string_view next_line(std::string_view text, std::size_t& at) {
  const auto end = text.find('\n', at);
  std::string_view line = text.substr(at, end - at);
  at = end + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Where the head ends in `text` (just past the empty line: "\n\r\n" or "\n\n"), or npos; a
// later search may start at `from`, which never skips a newline that still needs its follower.
std::size_t find_head_end(std::string_view text, std::size_t& from) {
  std::size_t at = from;
  for (;;) {
    const void* found = at < text.size() ? std::memchr(text.data() + at, '\n', text.size() - at) : nullptr;
    if (!found) {
      from = text.size();
      return std::string_view::npos;
    }
    const auto i = static_cast<std::size_t>(static_cast<const char*>(found) - text.data());
    if (i + 1 < text.size() && text[i + 1] == '\n') return i + 2;
    if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') return i + 3;
    if (i + 2 >= text.size() && (i + 1 == text.size() || text[i + 1] == '\r')) {
      from = i;  // the empty line may still come
      return std::string_view::npos;
    }
    at = i + 1;
  }
}

// A field line "name: value"; false if malformed (obs-fold, space before the colon, a control).
bool split_field(std::string_view line, std::string_view& name, std::string_view& value) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  name = line.substr(0, colon);
  value = trim_ows(line.substr(colon + 1));
  return is_token(name) && is_field_value(value);
}

// What the head says about framing and the connection.
struct Framing {
  bool content_length = false;
  std::uint64_t length = 0;
  bool transfer_encoding = false;
  bool chunked_last = false;  // the final transfer coding is chunked
  bool close = false;
  bool keep_alive = false;
};

constexpr std::size_t kMaxLengthDigits = 18;  // below 2^63
constexpr std::size_t kMaxChunkDigits = 15;   // below 2^60

}  // namespace

void HttpResponseParser::fail(const char* why) noexcept {
  state_ = State::bad;
  what_ = why;
  pending_.clear();
}

HttpResponseParser::Step HttpResponseParser::feed(net::ConstBytes bytes) {
  const std::string_view in(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::size_t used = 0;
  while (used < in.size() && state_ != State::done && state_ != State::bad) {
    const auto rest = in.substr(used);
    std::size_t n = 0;
    switch (state_) {
      case State::head: n = take_head(rest); break;
      case State::fixed:
      case State::chunk_data:
        n = static_cast<std::size_t>(std::min<std::uint64_t>(rest.size(), remaining_));
        remaining_ -= n;
        body_bytes_ += n;
        if (remaining_ == 0) state_ = state_ == State::fixed ? State::done : State::chunk_data_end;
        break;
      case State::until_close:
        n = rest.size();
        body_bytes_ += n;
        break;
      case State::chunk_line:
      case State::chunk_data_end:
      case State::trailers: {
        const bool chunk = state_ == State::chunk_line;
        const bool data_end = state_ == State::chunk_data_end;
        // trailer_bytes_ counts what the section took so far, pending_ included.
        const std::size_t limit = chunk ? kMaxChunkLine : data_end ? 2 : kMaxTrailers - trailer_bytes_ + pending_.size();
        const auto line = take_line(rest, limit, &n);
        if (state_ == State::trailers) trailer_bytes_ += n;
        if (state_ == State::bad || !line) break;
        if (chunk) {
          chunk_line(*line);
        } else if (!data_end) {
          trailer_line(*line);
        } else if (line->empty()) {
          state_ = State::chunk_line;
        } else {
          fail("chunk data longer than its size");
        }
        pending_.clear();
        break;
      }
      case State::done:
      case State::bad: break;
    }
    used += n;
    progress_ += n;
  }
  return {used, state_ == State::done  ? Status::complete
                : state_ == State::bad ? Status::bad
                                       : Status::incomplete};
}

std::optional<std::string_view> HttpResponseParser::take_line(std::string_view in, std::size_t limit,
                                                              std::size_t* used) {
  const void* newline = std::memchr(in.data(), '\n', in.size());
  const std::size_t n = newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - in.data()) + 1 : in.size();
  *used = n;
  if (pending_.size() + n > limit) {
    fail(state_ == State::chunk_line       ? "chunk size line over 512 bytes"
         : state_ == State::chunk_data_end ? "chunk data longer than its size"
                                           : "trailer section over 64 KiB");
    return std::nullopt;
  }
  if (!newline) {
    pending_.append(in);
    return std::nullopt;
  }
  std::string_view line = in.substr(0, n - 1);
  if (!pending_.empty()) {
    pending_.append(line);
    line = pending_;
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::size_t HttpResponseParser::take_head(std::string_view in) {
  if (pending_.empty()) {
    std::size_t from = 0;
    const auto end = find_head_end(in, from);
    if (end != std::string_view::npos) {
      if (end > kMaxHead) {
        fail("header section over 64 KiB");
        return in.size();
      }
      parse_head(in.substr(0, end));
      return end;
    }
    if (in.size() >= kMaxHead) {
      fail("header section over 64 KiB");
      return in.size();
    }
    pending_.assign(in);
    scanned_ = from;
    return in.size();
  }
  const std::size_t before = pending_.size();
  const std::size_t take = std::min(in.size(), kMaxHead - before);
  pending_.append(in.substr(0, take));
  const auto end = find_head_end(pending_, scanned_);
  if (end == std::string_view::npos) {
    if (pending_.size() >= kMaxHead) fail("header section over 64 KiB");
    return take;
  }
  pending_.resize(end);
  parse_head(pending_);
  pending_.clear();
  scanned_ = 0;
  return end - before;
}

void HttpResponseParser::parse_head(std::string_view head) {
  std::size_t at = 0;
  const auto status_line = next_line(head, at);
  // HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 section 4); the SP before an
  // empty reason is often left out, so it may be.
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") || status_line[8] != ' ' ||
      (status_line.size() > 12 && status_line[12] != ' '))
    return fail("status line is not HTTP/1.x CODE REASON");
  const char minor = status_line[7];
  const char* digits = status_line.data() + 9;
  if (minor < '0' || minor > '9' || !std::all_of(digits, digits + 3, [](char c) { return c >= '0' && c <= '9'; }))
    return fail("status line is not HTTP/1.x CODE REASON");
  const int code = (digits[0] - '0') * 100 + (digits[1] - '0') * 10 + (digits[2] - '0');
  if (code < 100 || code > 599) return fail("status code outside 100-599");
  if (!is_field_value(status_line.substr(std::min<std::size_t>(status_line.size(), 13))))
    return fail("control character in the reason phrase");

  Framing f;
  for (;;) {
    const auto line = next_line(head, at);
    if (line.empty()) break;
    if (is_ows(line.front())) return fail("obsolete line folding in the header section");
    std::string_view name, value;
    if (!split_field(line, name, value)) return fail("malformed header field");
    if (iequals(name, "content-length")) {
      if (value.empty() || value.size() > kMaxLengthDigits ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return fail("Content-Length is not a number below 10^18");
      std::uint64_t length = 0;
      for (char c : value) length = length * 10 + static_cast<std::uint64_t>(c - '0');
      if (f.content_length && f.length != length) return fail("conflicting Content-Length fields");
      f.content_length = true;
      f.length = length;
    } else if (iequals(name, "transfer-encoding")) {
      f.transfer_encoding = true;
      http::for_each_element(value, [&](std::string_view coding) {
        if (coding.empty()) return;
        f.chunked_last = iequals(trim_ows(coding.substr(0, coding.find(';'))), "chunked");
      });
    } else if (iequals(name, "connection")) {
      http::for_each_element(value, [&](std::string_view option) {
        f.close = f.close || iequals(option, "close");
        f.keep_alive = f.keep_alive || iequals(option, "keep-alive");
      });
    }
  }

  if (code < 200) {
    // Interim: the final response follows (RFC 9110 section 15.2). 101 would switch protocols,
    // which a GET without Upgrade never asks for.
    if (code == 101) fail("101 Switching Protocols without an Upgrade request");
    return;
  }
  code_ = code;
  keep_alive_ = minor == '0' ? f.keep_alive && !f.close : !f.close;
  // RFC 9112 section 6.3, in its order.
  if (head_request_ || code == 204 || code == 304) {
    state_ = State::done;
  } else if (f.transfer_encoding) {
    // Both fields: the "ought to be handled as an error" of 6.3 item 3 (response smuggling).
    if (f.content_length) return fail("both Transfer-Encoding and Content-Length");
    if (minor == '0') return fail("Transfer-Encoding in an HTTP/1.0 response");
    state_ = f.chunked_last ? State::chunk_line : State::until_close;
  } else if (f.content_length) {
    remaining_ = f.length;
    state_ = f.length == 0 ? State::done : State::fixed;
  } else {
    state_ = State::until_close;
  }
  if (state_ == State::until_close) keep_alive_ = false;
}

void HttpResponseParser::chunk_line(std::string_view line) {
  // chunk-size [ chunk-ext ] (RFC 9112 section 7.1): extensions are read and dropped.
  std::size_t digits = 0;
  std::uint64_t size = 0;
  for (; digits < line.size(); ++digits) {
    const char c = line[digits];
    unsigned value = 0;
    if (c >= '0' && c <= '9') value = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') value = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') value = static_cast<unsigned>(c - 'A' + 10);
    else break;
    if (digits == kMaxChunkDigits) return fail("chunk size over 15 hex digits");
    size = size << 4 | value;
  }
  if (digits == 0) return fail("chunk size is not hexadecimal");
  const auto extensions = trim_ows(line.substr(digits));
  if (!extensions.empty() && (extensions.front() != ';' || !is_field_value(extensions)))
    return fail("malformed chunk extension");
  if (size == 0) {
    state_ = State::trailers;
    return;
  }
  remaining_ = size;
  state_ = State::chunk_data;
}

void HttpResponseParser::trailer_line(std::string_view line) {
  if (line.empty()) {
    state_ = State::done;
    return;
  }
  std::string_view name, value;
  if (is_ows(line.front()) || !split_field(line, name, value)) fail("malformed trailer field");
}

HttpResponseParser::Status HttpResponseParser::finish() {
  switch (state_) {
    case State::done: return Status::complete;
    case State::bad: return Status::bad;
    case State::until_close: state_ = State::done; return Status::complete;
    default:
      fail(progress_ == 0 ? "the connection closed before the response" : "the connection closed mid-response");
      return Status::bad;
  }
}

void HttpResponseParser::reset() noexcept {
  state_ = State::head;
  code_ = 0;
  keep_alive_ = true;
  remaining_ = 0;
  body_bytes_ = 0;
  progress_ = 0;
  trailer_bytes_ = 0;
  scanned_ = 0;
  pending_.clear();
  what_ = "";
}

}  // namespace sockit::tools
