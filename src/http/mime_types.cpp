#include "http/mime_types.hpp"

#include <fstream>
#include <sstream>

#include "http/syntax.hpp"

namespace sockit::http {

namespace {

constexpr std::pair<std::string_view, std::string_view> kBuiltIn[] = {
    {"html", "text/html"},        {"htm", "text/html"},          {"css", "text/css"},
    {"js", "text/javascript"},    {"mjs", "text/javascript"},    {"json", "application/json"},
    {"txt", "text/plain"},        {"png", "image/png"},          {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},       {"gif", "image/gif"},          {"svg", "image/svg+xml"},
    {"webp", "image/webp"},       {"ico", "image/vnd.microsoft.icon"}, {"mp4", "video/mp4"},
    {"webm", "video/webm"},       {"pdf", "application/pdf"},    {"wasm", "application/wasm"},
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = to_lower(c);
  return out;
}

// Text a browser must not guess the encoding of.
std::string with_charset(std::string_view type) {
  const bool text = type.starts_with("text/") || type == "application/javascript" ||
                    type == "application/json" || type == "image/svg+xml";
  return text ? std::string(type) + "; charset=utf-8" : std::string(type);
}

}  // namespace

MimeTypes MimeTypes::load(const std::string& path) {
  MimeTypes types;
  std::ifstream file(path);
  std::string line;
  while (file && std::getline(file, line)) {
    line.erase(std::min(line.find('#'), line.size()));
    std::istringstream words(line);
    std::string type, extension;
    if (!(words >> type)) continue;
    const auto full = with_charset(lower(type));
    while (words >> extension) types.by_extension_.try_emplace(lower(extension), full);
  }
  for (const auto& [extension, type] : kBuiltIn) types.by_extension_.try_emplace(std::string(extension), with_charset(type));
  return types;
}

std::string_view MimeTypes::type_for(std::string_view file_name) const {
  const auto base = file_name.substr(std::min(file_name.rfind('/') + 1, file_name.size()));
  const auto dot = base.rfind('.');
  // A leading dot names a hidden file (".profile"), not an extension.
  if (dot == std::string_view::npos || dot == 0) return kDefault;
  const auto it = by_extension_.find(lower(base.substr(dot + 1)));
  return it == by_extension_.end() ? kDefault : std::string_view(it->second);
}

}  // namespace sockit::http
