#include "tools/scan_resume.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/core.h>
#include <set>


namespace sockit::tools {
namespace {

constexpr std::string_view kMagic = "sockit-scan-resume 1";
constexpr std::size_t kMaxReason = 32;
constexpr std::size_t kMaxServer = 256;

net::Error corrupt(std::size_t line, const std::string& what) {
  return net::Error("parse resume file", net::Errc::protocol, "", fmt::format("line {}: {}", line, what));
}

std::string hex(std::string_view bytes) {
  if (bytes.empty()) return "-";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (char c : bytes) {
    text += kHex[static_cast<unsigned char>(c) >> 4];
    text += kHex[static_cast<unsigned char>(c) & 15];
  }
  return text;
}

std::optional<std::string> unhex(std::string_view text, std::size_t max_bytes) {
  if (text == "-") return std::string();
  if (text.size() % 2 != 0 || text.size() / 2 > max_bytes) return std::nullopt;
  std::string bytes;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + i + 2, value, 16);
    if (ec != std::errc{} || end != text.data() + i + 2) return std::nullopt;
    bytes += static_cast<char>(value);
  }
  return bytes;
}

template <typename T>
std::optional<T> number(std::string_view text, T low, T high) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < low || value > high) return std::nullopt;
  return value;
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    const auto space = line.find(' ');
    fields.push_back(line.substr(0, space));
    line = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
  }
  return fields;
}

std::optional<PortState> state_of(std::string_view name) {
  for (auto state : {PortState::open, PortState::closed, PortState::filtered, PortState::open_filtered})
    if (state_name(state) == name) return state;
  return std::nullopt;
}

bool is_word(std::string_view text, std::size_t max) {
  return !text.empty() && text.size() <= max && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool is_numeric_address(std::string_view text) {
  if (text.empty() || text.size() > 64 || text.find('\0') != std::string_view::npos) return false;
  const std::string host(text);
  in6_addr scratch{};
  return ::inet_pton(AF_INET, host.c_str(), &scratch) == 1 || ::inet_pton(AF_INET6, host.c_str(), &scratch) == 1;
}

bool known_service(std::string_view name) {
  for (std::string_view s : {"echo", "daytime", "time", "chargen", "http"})
    if (name == s) return true;
  return false;
}

// One "done" line's fields after the word "done".
net::Result<PortResult> parse_done(const std::vector<std::string_view>& f, std::size_t line) {
  if (f.size() != 8) return corrupt(line, "a done line has 7 fields: port state reason attempts banner service server");
  PortResult r;
  const auto port = number<int>(f[1], 1, 65535);
  if (!port) return corrupt(line, fmt::format("port '{}' is not 1-65535", f[1]));
  r.port = static_cast<std::uint16_t>(*port);
  const auto state = state_of(f[2]);
  if (!state) return corrupt(line, fmt::format("unknown state '{}'", f[2]));
  r.state = *state;
  if (!is_word(f[3], kMaxReason)) return corrupt(line, "the reason is not a short word of a-z, 0-9 and -");
  r.reason = f[3];
  const auto attempts = number<int>(f[4], 1, 100);
  if (!attempts) return corrupt(line, fmt::format("attempts '{}' is not 1-100", f[4]));
  r.attempts = *attempts;
  const auto banner = unhex(f[5], kBannerMax);
  if (!banner) return corrupt(line, "the banner is not hex of at most 256 bytes");
  r.banner = *banner;
  if (f[6] != "-" && !known_service(f[6])) return corrupt(line, fmt::format("unknown service '{}'", f[6]));
  r.identified = f[6] == "-" ? "" : std::string(f[6]);
  const auto server = unhex(f[7], kMaxServer);
  if (!server) return corrupt(line, "the server is not hex of at most 256 bytes");
  r.server = *server;
  if ((!r.banner.empty() || !r.identified.empty() || !r.server.empty()) && r.state != PortState::open)
    return corrupt(line, "only an open port has a banner");
  return r;
}

}  // namespace

std::string port_ranges(const std::vector<std::uint16_t>& ports) {
  std::string text;
  for (std::size_t i = 0; i < ports.size();) {
    std::size_t j = i;
    while (j + 1 < ports.size() && ports[j + 1] == ports[j] + 1) ++j;
    if (!text.empty()) text += ',';
    text += j == i ? fmt::format("{}", ports[i]) : fmt::format("{}-{}", ports[i], ports[j]);
    i = j + 1;
  }
  return text;
}

std::string format_resume(const ResumeState& state) {
  const ScanPlan& p = state.plan;
  std::string text = fmt::format(
      "{}\ntarget {}\nprotocol {}\nports {}\ntimeout-ms {}\nretries {}\nbanner {}\nbanner-timeout-ms {}\n"
      "elapsed-s {:.6f}\nprobes {}\n",
      kMagic, p.target, protocol_name(p.protocol), port_ranges(p.ports), p.timeout_ms, p.retries, p.banner ? 1 : 0,
      p.banner_timeout_ms, state.elapsed_s, state.probes);
  for (const auto& r : state.done)
    text += fmt::format("done {} {} {} {} {} {} {}\n", r.port, state_name(r.state), r.reason, r.attempts, hex(r.banner),
                        r.identified.empty() ? "-" : r.identified, hex(r.server));
  text += "end\n";
  return text;
}

net::Result<ResumeState> parse_resume(std::string_view text) {
  if (text.size() > kResumeFileMax) return corrupt(0, "bigger than 16 MiB");
  ResumeState state;
  std::set<std::string_view> seen_keys;
  std::set<std::uint16_t> done_ports;
  bool ended = false;
  std::size_t number_of_line = 0;
  static const std::vector<std::string_view> kKeys = {"target",  "protocol", "ports",     "timeout-ms",
                                                      "retries", "banner",   "banner-timeout-ms", "elapsed-s",
                                                      "probes"};
  while (!text.empty()) {
    const auto newline = text.find('\n');
    if (newline == std::string_view::npos) return corrupt(number_of_line + 1, "the last line has no line end");
    const auto line = text.substr(0, newline);
    text.remove_prefix(newline + 1);
    ++number_of_line;
    if (ended) return corrupt(number_of_line, "text after 'end'");
    if (number_of_line == 1) {
      if (line != kMagic) return corrupt(1, fmt::format("not a sockit scan resume file (expected '{}')", kMagic));
      continue;
    }
    if (line == "end") {
      ended = true;
      continue;
    }
    const auto f = fields_of(line);
    if (f.empty()) return corrupt(number_of_line, "empty line");
    if (f[0] == "done") {
      if (seen_keys.size() != kKeys.size()) return corrupt(number_of_line, "a done line before every option line");
      auto r = parse_done(f, number_of_line);
      if (!r) return r.error();
      if (!std::binary_search(state.plan.ports.begin(), state.plan.ports.end(), r->port))
        return corrupt(number_of_line, fmt::format("port {} is not one the scan scans", r->port));
      if (!done_ports.insert(r->port).second) return corrupt(number_of_line, fmt::format("port {} twice", r->port));
      state.done.push_back(std::move(*r));
      continue;
    }
    if (std::find(kKeys.begin(), kKeys.end(), f[0]) == kKeys.end())
      return corrupt(number_of_line, fmt::format("unknown line '{}'", f[0].substr(0, 32)));
    if (f.size() != 2) return corrupt(number_of_line, fmt::format("'{}' takes one value", f[0]));
    if (!seen_keys.insert(f[0]).second) return corrupt(number_of_line, fmt::format("'{}' twice", f[0]));
    const auto key = f[0];
    const auto value = f[1];
    ScanPlan& p = state.plan;
    bool ok = true;
    if (key == "target") {
      ok = is_numeric_address(value);
      p.target = value;
    } else if (key == "protocol") {
      ok = value == "tcp" || value == "udp";
      p.protocol = value == "udp" ? ScanProtocol::udp : ScanProtocol::tcp;
    } else if (key == "ports") {
      auto ports = parse_ports(value);
      ok = ports.has_value() && value != "-";
      if (ok) p.ports = std::move(*ports);
    } else if (key == "timeout-ms" || key == "banner-timeout-ms") {
      auto ms = number<long>(value, 1, 3600L * 1000);
      ok = ms.has_value();
      if (ok) (key == "timeout-ms" ? p.timeout_ms : p.banner_timeout_ms) = *ms;
    } else if (key == "retries") {
      auto retries = number<int>(value, 0, 10);
      ok = retries.has_value();
      if (ok) p.retries = *retries;
    } else if (key == "banner") {
      ok = value == "0" || value == "1";
      p.banner = value == "1";
    } else if (key == "elapsed-s") {
      double seconds = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      ok = ec == std::errc{} && end == value.data() + value.size() && std::isfinite(seconds) && seconds >= 0 &&
           seconds < 1e9;
      state.elapsed_s = seconds;
    } else if (key == "probes") {
      auto probes = number<long long>(value, 0, 1LL << 40);
      ok = probes.has_value();
      if (ok) state.probes = *probes;
    }
    if (!ok) return corrupt(number_of_line, fmt::format("bad {} '{}'", key, value.substr(0, 64)));
  }
  if (number_of_line == 0) return corrupt(0, "empty file");
  if (!ended) return corrupt(number_of_line, "no 'end' line: the file was cut short");
  if (seen_keys.size() != kKeys.size()) return corrupt(number_of_line, "an option line is missing");
  std::sort(state.done.begin(), state.done.end(), [](const auto& a, const auto& b) { return a.port < b.port; });
  return state;
}

std::optional<std::string> plan_conflict(const ScanPlan& file, const ScanPlan& wanted) {
  auto differ = [](std::string_view option, const auto& theirs, const auto& ours) {
    return fmt::format("{}: the resume file's scan has {}, this command {}", option, theirs, ours);
  };
  if (file.target != wanted.target) return differ("target", file.target, wanted.target);
  if (file.protocol != wanted.protocol)
    return differ("protocol", protocol_name(file.protocol), protocol_name(wanted.protocol));
  if (file.ports != wanted.ports) return differ("--ports", port_ranges(file.ports), port_ranges(wanted.ports));
  if (file.timeout_ms != wanted.timeout_ms)
    return differ("--timeout", fmt::format("{} ms", file.timeout_ms), fmt::format("{} ms", wanted.timeout_ms));
  if (file.retries != wanted.retries) return differ("--retries", file.retries, wanted.retries);
  if (file.banner != wanted.banner)
    return differ("--banner", file.banner ? "it" : "none", wanted.banner ? "it" : "none");
  if (file.banner && file.banner_timeout_ms != wanted.banner_timeout_ms)
    return differ("--banner-timeout", fmt::format("{} ms", file.banner_timeout_ms),
                  fmt::format("{} ms", wanted.banner_timeout_ms));
  return std::nullopt;
}

}  // namespace sockit::tools
