#include "serve/services/http/responder.hpp"

#include <fmt/core.h>

#include <atomic>
#include <charconv>

#include "http/byte_range.hpp"
#include "http/date.hpp"
#include "http/syntax.hpp"
#include "http/target_path.hpp"
#include "serve/services/http/response_head.hpp"

namespace sockit::serve::services::http {
namespace {

namespace core = sockit::http;

constexpr std::size_t kMaxListed = 10000;  // a bigger directory's listing says how many it left out

// If-None-Match: weak comparison (RFC 9110 13.1.2), "*" matches any current representation.
bool none_match_fails(std::string_view list, std::string_view etag) {
  bool matched = false;
  core::for_each_element(list, [&](std::string_view tag) {
    if (tag == "*") matched = true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) matched = true;
  });
  return matched;
}

// If-Range: the range applies only to the representation it names, compared strongly, or to
// one last modified exactly at the date it gives.
bool if_range_holds(std::string_view value, const Entry& entry) {
  value = core::trim_ows(value);
  if (value.starts_with('"')) return value == entry.etag;
  if (value.starts_with("W/")) return false;
  const auto date = core::parse_date(value);
  return date && *date == entry.mtime;
}

// Accept-Encoding names gzip (or "*") with a weight above zero.
bool accepts_gzip(const core::Request& request) {
  const auto* accept = request.field("Accept-Encoding");
  if (!accept) return false;
  bool gzip = false, star = false, gzip_named = false;
  core::for_each_element(*accept, [&](std::string_view element) {
    const auto semicolon = element.find(';');
    const auto coding = core::trim_ows(element.substr(0, semicolon));
    bool refused = false;
    if (semicolon != std::string_view::npos) {
      auto parameter = core::trim_ows(element.substr(semicolon + 1));
      if (parameter.starts_with("q=") || parameter.starts_with("Q=")) {
        parameter.remove_prefix(2);
        refused = parameter.find_first_not_of("0.") == std::string_view::npos;
      }
    }
    if (core::iequals(coding, "gzip") || core::iequals(coding, "x-gzip")) {
      gzip_named = true;
      gzip = !refused;
    } else if (coding == "*") {
      star = !refused;
    }
  });
  return gzip || (!gzip_named && star);
}

std::string url_path(std::string_view path) {
  std::string url = "/";
  while (!path.empty()) {
    const auto slash = path.find('/');
    url += core::url_encode(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    url += '/';
    path.remove_prefix(slash + 1);
  }
  return url;
}

std::string next_boundary() {
  static std::atomic<std::uint64_t> counter{0};
  return fmt::format("sockit-{:016x}", (counter.fetch_add(1, std::memory_order_relaxed) + 1) * 0x9e3779b97f4a7c15ull);
}

}  // namespace

Answered Responder::error(int status, bool head, Persistence persistence, std::string_view date, Output& out,
                          std::string_view fields) {
  const auto page = error_page(status);
  ResponseHead response(status, date);
  response.field("Content-Type", "text/html; charset=utf-8");
  auto text = response.finish(page.size(), persistence.close, persistence.http10_keep_alive);
  if (!fields.empty()) text.insert(text.size() - 2, fields);
  out.append(text);
  if (head) return {status, 0};
  out.append(page);
  return {status, page.size()};
}

Answered Responder::respond(const core::Request& request, Persistence persistence, std::string_view date,
                            Output& out) const {
  const bool head = request.method == "HEAD";
  if (!head && request.method != "GET") return error(405, false, persistence, date, out, "Allow: GET, HEAD\r\n");
  const auto target = core::resolve_target(request.target);
  if (!target) return error(400, head, persistence, date, out);
  auto entry = files_.open(target->path);
  if (!entry) return error(404, head, persistence, date, out);
  if (!entry->directory) {
    // "file.txt/" names a directory that is not there.
    if (target->directory && !target->path.empty()) return error(404, head, persistence, date, out);
    return file(request, target->path, std::move(*entry), persistence, date, out);
  }
  if (!target->directory) {
    auto location = url_path(target->path) + "/";
    if (!target->query.empty()) location += "?" + target->query;
    return error(301, head, persistence, date, out, fmt::format("Location: {}\r\n", location));
  }
  const auto index_path = target->path + "index.html";
  if (auto index = files_.open(index_path); index && !index->directory)
    return file(request, index_path, std::move(*index), persistence, date, out);
  if (autoindex_) return listing(request, target->path, *entry, persistence, date, out);
  return error(404, head, persistence, date, out);
}

Answered Responder::file(const core::Request& request, const std::string& path, Entry entry, Persistence persistence,
                         std::string_view date, Output& out) const {
  const bool head = request.method == "HEAD";
  // A precompressed sibling (nginx's gzip_static): path.gz for clients that take gzip.
  bool vary = false, gzipped = false;
  if (auto gz = files_.find(path + ".gz"); gz && !gz->directory) {
    vary = true;
    if (accepts_gzip(request)) {
      entry = std::move(*gz);
      gzipped = true;
    }
  }
  const auto fields = [&](ResponseHead& response) {
    response.field("Last-Modified", core::format_date(entry.mtime));
    response.field("ETag", entry.etag);
    if (vary) response.field("Vary", "Accept-Encoding");
  };

  const auto* none_match = request.field("If-None-Match");
  const auto* modified_since = none_match ? nullptr : request.field("If-Modified-Since");
  const auto since = modified_since ? core::parse_date(*modified_since) : std::nullopt;
  if ((none_match && none_match_fails(*none_match, entry.etag)) || (since && entry.mtime <= *since)) {
    ResponseHead response(304, date);
    fields(response);
    out.append(response.finish_without_length(persistence.close, persistence.http10_keep_alive));
    return {304, 0};
  }

  const auto type = types_.type_for(path);
  const auto* range_field = request.field("Range");
  const auto* if_range = request.field("If-Range");
  core::RangeRequest ranges;
  if (range_field && (!if_range || if_range_holds(*if_range, entry))) ranges = core::parse_range(*range_field, entry.size);

  using Kind = core::RangeRequest::Kind;
  if (ranges.kind == Kind::unsatisfiable)
    return error(416, head, persistence, date, out, fmt::format("Content-Range: bytes */{}\r\n", entry.size));

  const auto body = [&](std::uint64_t offset, std::uint64_t length) {
    if (!head) out.append(FileRange{entry.fd, offset, static_cast<std::size_t>(length)});
  };
  if (ranges.kind == Kind::whole) {
    ResponseHead response(200, date);
    response.field("Content-Type", type);
    if (gzipped) response.field("Content-Encoding", "gzip");
    response.field("Accept-Ranges", "bytes");
    fields(response);
    out.append(response.finish(entry.size, persistence.close, persistence.http10_keep_alive));
    body(0, entry.size);
    return {200, head ? 0 : entry.size};
  }

  ResponseHead response(206, date);
  if (gzipped) response.field("Content-Encoding", "gzip");
  response.field("Accept-Ranges", "bytes");
  fields(response);
  if (ranges.ranges.size() == 1) {
    const auto& only = ranges.ranges.front();
    response.field("Content-Type", type);
    response.field("Content-Range", fmt::format("bytes {}-{}/{}", only.first, only.last, entry.size));
    out.append(response.finish(only.length(), persistence.close, persistence.http10_keep_alive));
    body(only.first, only.length());
    return {206, head ? 0 : only.length()};
  }
  const auto boundary = next_boundary();
  const auto parts = core::multipart(ranges.ranges, entry.size, type, boundary);
  response.field("Content-Type", "multipart/byteranges; boundary=" + boundary);
  out.append(response.finish(parts.body_length(), persistence.close, persistence.http10_keep_alive));
  if (head) return {206, 0};
  for (const auto& part : parts.parts) {
    out.append(part.head);
    body(part.range.first, part.range.length());
  }
  out.append(parts.tail);
  return {206, parts.body_length()};
}

Answered Responder::listing(const core::Request& request, const std::string& path, const Entry& dir,
                            Persistence persistence, std::string_view date, Output& out) const {
  const bool head = request.method == "HEAD";
  auto names = files_.list(dir);
  if (!names) return error(500, head, persistence, date, out);
  const auto title = core::html_escape("Index of " + url_path(path));
  std::string page = fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{0}</title></head><body>\n<h1>{0}</h1><hr><pre>\n",
      title);
  if (!path.empty()) page += "<a href=\"../\">../</a>\n";
  std::size_t shown = 0;
  for (const auto& name : *names) {
    if (++shown > kMaxListed) {
      page += fmt::format("... and {} more\n", names->size() - kMaxListed);
      break;
    }
    const auto slash = name.directory ? "/" : "";
    page += fmt::format("<a href=\"{}{}\">{}{}</a>  {}  {}\n", core::url_encode(name.name), slash,
                        core::html_escape(name.name), slash, core::format_date(name.mtime),
                        name.directory ? std::string("-") : std::to_string(name.size));
  }
  page += "</pre><hr></body></html>\n";
  ResponseHead response(200, date);
  response.field("Content-Type", "text/html; charset=utf-8");
  out.append(response.finish(page.size(), persistence.close, persistence.http10_keep_alive));
  if (head) return {200, 0};
  out.append(page);
  return {200, page.size()};
}

}  // namespace sockit::serve::services::http
