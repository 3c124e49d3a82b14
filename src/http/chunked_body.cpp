#include "http/chunked_body.hpp"

#include <algorithm>
#include <limits>

#include "http/field_line.hpp"
#include "http/request_parser.hpp"
#include "http/syntax.hpp"

namespace sockit::http {

namespace {

// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-value ] ), a value a token or a
// quoted-string (RFC 9112 7.1.1). Extensions mean nothing to us, but a bad one is a bad chunk.
std::size_t skip_ows(std::string_view text, std::size_t at) {
  while (at < text.size() && is_ows(text[at])) ++at;
  return at;
}

std::size_t skip_token(std::string_view text, std::size_t at) {
  while (at < text.size() && is_tchar(text[at])) ++at;
  return at;
}

// The end of the quoted-string starting at `at` (its opening quote), or npos.
std::size_t skip_quoted(std::string_view text, std::size_t at) {
  for (++at; at < text.size(); ++at) {
    const char c = text[at];
    if (c == '"') return at + 1;
    if (c == '\\') ++at;
    if (at >= text.size() || (is_control(text[at]) && text[at] != '\t')) return std::string_view::npos;
  }
  return std::string_view::npos;
}

bool is_chunk_ext(std::string_view ext) {
  std::size_t at = 0;
  for (;;) {
    at = skip_ows(ext, at);
    if (at == ext.size()) return true;
    if (ext[at] != ';') return false;
    at = skip_ows(ext, at + 1);
    const auto name_end = skip_token(ext, at);
    if (name_end == at) return false;
    at = skip_ows(ext, name_end);
    if (at == ext.size() || ext[at] != '=') continue;
    at = skip_ows(ext, at + 1);
    const auto value_end = at < ext.size() && ext[at] == '"' ? skip_quoted(ext, at) : skip_token(ext, at);
    if (value_end == std::string_view::npos || value_end == at) return false;
    at = value_end;
  }
}

ParseError bad_chunk(std::string reason) { return {400, "bad chunk: " + std::move(reason)}; }

}  // namespace

ChunkedBody::ChunkedBody(const ParserLimits& limits)
    : max_body_(limits.max_body), max_trailer_bytes_(limits.max_header_bytes), max_trailer_fields_(limits.max_fields) {}

ChunkedBody::Step ChunkedBody::feed(std::string_view in, ParseError& error) {
  std::size_t used = 0;
  while (used < in.size()) {
    const auto rest = in.substr(used);
    if (phase_ == Phase::data) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(data_left_, rest.size()));
      used += n;
      data_left_ -= n;
      if (data_left_ == 0) phase_ = Phase::data_end;
      continue;
    }
    const auto max_raw = phase_ == Phase::size_line ? kMaxSizeLine
                         : phase_ == Phase::data_end ? 2
                                                     : max_trailer_bytes_ - trailer_bytes_;
    const auto taken = line_.take(rest, max_raw);
    used += taken.consumed;
    if (taken.state == LineBuffer::State::partial) continue;
    if (taken.state == LineBuffer::State::too_long) {
      error = phase_ == Phase::trailer  ? ParseError{431, "the trailer section is over the limit"}
              : phase_ == Phase::data_end ? bad_chunk("no line end after the chunk data")
                                          : bad_chunk("the chunk-size line is too long");
      return {used, State::failed};
    }
    const auto state = take_line(line_.line(), error);
    if (state != State::reading) return {used, state};
  }
  return {used, State::reading};
}

ChunkedBody::State ChunkedBody::take_line(std::string_view line, ParseError& error) {
  switch (phase_) {
    case Phase::size_line:
      return take_size_line(line, error);
    case Phase::data_end:
      if (!line.empty()) {
        error = bad_chunk("no line end after the chunk data");
        return State::failed;
      }
      phase_ = Phase::size_line;
      return State::reading;
    case Phase::trailer:
      return take_trailer_line(line, line_.raw_size(), error);
    case Phase::data:
      break;
  }
  return State::reading;
}

ChunkedBody::State ChunkedBody::take_size_line(std::string_view line, ParseError& error) {
  std::size_t digits = 0;
  std::uint64_t size = 0;
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  for (; digits < line.size() && hex_value(line[digits]) >= 0; ++digits) {
    // Saturated: a size too large to hold is over any limit, never wrapped round to a small one.
    size = size > kMax >> 4 ? kMax : size << 4 | static_cast<std::uint64_t>(hex_value(line[digits]));
  }
  if (digits == 0) {
    error = bad_chunk("the chunk size is not hexadecimal");
    return State::failed;
  }
  if (!is_chunk_ext(line.substr(digits))) {
    error = bad_chunk("a malformed chunk extension");
    return State::failed;
  }
  if (size > max_body_ - total_) {
    error = ParseError{413, "the chunked body is over the body limit"};
    return State::failed;
  }
  total_ += size;
  data_left_ = size;
  phase_ = size == 0 ? Phase::trailer : Phase::data;
  return State::reading;
}

ChunkedBody::State ChunkedBody::take_trailer_line(std::string_view line, std::size_t raw_size, ParseError& error) {
  trailer_bytes_ += raw_size;
  if (line.empty()) return State::done;
  if (++trailer_fields_ > max_trailer_fields_) {
    error = ParseError{431, "more trailer fields than the limit"};
    return State::failed;
  }
  Field ignored;
  if (const char* why = parse_field_line(line, ignored)) {
    error = bad_chunk(std::string("a trailer line ") + why);
    return State::failed;
  }
  return State::reading;
}

void ChunkedBody::reset() noexcept {
  line_.clear();
  phase_ = Phase::size_line;
  data_left_ = total_ = 0;
  trailer_bytes_ = trailer_fields_ = 0;
}

}  // namespace sockit::http
