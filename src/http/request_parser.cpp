#include "http/request_parser.hpp"

#include <algorithm>

#include "http/field_line.hpp"
#include "http/framing.hpp"
#include "http/syntax.hpp"

namespace sockit::http {

const std::string* Request::field(std::string_view name) const noexcept {
  const auto it = std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return iequals(f.name, name); });
  return it == fields.end() ? nullptr : &it->value;
}

RequestParser::Step RequestParser::feed(std::span<const std::byte> bytes) {
  const std::string_view in(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (phase_ == Phase::failed) return {0, Kind::error};
  std::size_t used = 0;
  while (used < in.size()) {
    const auto rest = in.substr(used);
    switch (phase_) {
      case Phase::body: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(body_left_, rest.size()));
        used += n;
        body_left_ -= n;
        if (body_left_ == 0) phase_ = Phase::request_line;
        break;
      }
      case Phase::chunked: {
        const auto step = chunked_.feed(rest, error_);
        used += step.consumed;
        if (step.state == ChunkedBody::State::failed) return fail(used, error_);
        if (step.state == ChunkedBody::State::done) {
          chunked_.reset();
          phase_ = Phase::request_line;
        }
        break;
      }
      case Phase::request_line:
      case Phase::fields: {
        const auto step = take_line(rest, used);
        if (step.kind != Kind::need_more) return step;
        break;
      }
      case Phase::failed:
        return {used, Kind::error};
    }
  }
  return {used, Kind::need_more};
}

// Takes (part of) the request line or a field line from `in`; need_more to go on.
RequestParser::Step RequestParser::take_line(std::string_view in, std::size_t& used) {
  const bool request_line = phase_ == Phase::request_line;
  // The request line may end in CRLF beyond its limit; the header section counts its line ends.
  const auto max_raw = request_line ? limits_.max_request_line + 2 : limits_.max_header_bytes - header_bytes_;
  const auto taken = line_.take(in, max_raw);
  used += taken.consumed;
  if (taken.state == LineBuffer::State::partial) return {used, Kind::need_more};
  if (taken.state == LineBuffer::State::too_long) {
    return request_line ? fail(used, {414, "the request line is over the limit"})
                        : fail(used, {431, "the header section is over the limit"});
  }
  const auto line = line_.line();
  if (request_line) {
    if (line.empty()) return {used, Kind::need_more};  // RFC 9112 2.2: empty lines before a request
    if (line.size() > limits_.max_request_line) return fail(used, {414, "the request line is over the limit"});
    request_ = {};
    if (auto error = parse_request_line(line, request_)) return fail(used, std::move(*error));
    phase_ = Phase::fields;
    header_bytes_ = 0;
    return {used, Kind::need_more};
  }
  header_bytes_ += line_.raw_size();
  if (line.empty()) return finish_header_section(used);
  if (request_.fields.size() == limits_.max_fields) return fail(used, {431, "more header fields than the limit"});
  Field field;
  if (const char* why = parse_field_line(line, field)) {
    return fail(used, {400, "header line " + std::to_string(request_.fields.size() + 1) + " " + why});
  }
  request_.fields.push_back(std::move(field));
  return {used, Kind::need_more};
}

RequestParser::Step RequestParser::finish_header_section(std::size_t used) {
  Framing framing;
  if (auto error = frame_request(request_, limits_, framing)) return fail(used, std::move(*error));
  switch (framing.body) {
    case Framing::Body::none: phase_ = Phase::request_line; break;
    case Framing::Body::length: phase_ = Phase::body; body_left_ = framing.length; break;
    case Framing::Body::chunked: phase_ = Phase::chunked; break;
  }
  return {used, Kind::request};
}

RequestParser::Step RequestParser::fail(std::size_t used, ParseError error) {
  error_ = std::move(error);
  error_.in_body = phase_ == Phase::body || phase_ == Phase::chunked;
  phase_ = Phase::failed;
  line_.clear();
  return {used, Kind::error};
}

bool RequestParser::mid_request() const noexcept {
  switch (phase_) {
    case Phase::request_line: return line_.holds_partial();
    case Phase::fields: case Phase::body: case Phase::chunked: return true;
    case Phase::failed: return false;
  }
  return false;
}

}  // namespace sockit::http
