#include <fmt/core.h>
#include <netdb.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/command.hpp"
#include "cli/option_checks.hpp"
#include "net/address.hpp"
#include "net/error.hpp"
#include "tools/lookup.hpp"

namespace sockit::cli {
namespace {

struct LookupOptions {
  std::string host;
  std::string reverse;
  std::string service;
  std::string protocol;
  int family = 0;
  bool json = false;
};

// Exit codes as getent's: 2 when what was asked for does not exist.
constexpr int kNotFound = 2;

// getaddrinfo/getnameinfo found no such name or address (as opposed to failing to ask).
bool not_found(const net::Error& e) {
  if (e.code().category() != net::gai_category()) return false;
  const int code = e.code().value();
  return code == EAI_NONAME || code == EAI_NODATA || code == EAI_ADDRFAMILY;
}

// --service NAME|PORT[/PROTOCOL]: a port out of range or an empty part is the user's slip, not a
// service that /etc/services lacks.
std::string check_service(std::string& text) {
  const auto slash = text.find('/');
  if (auto problem = checks::check_port_text(std::string_view(text).substr(0, slash), false); !problem.empty()) return problem;
  if (slash != std::string::npos && slash + 1 == text.size()) return "a protocol after '/' must not be empty";
  return {};
}

// --protocol NAME|NUMBER: IP protocol numbers are 0-255.
std::string check_protocol(std::string& text) {
  if (text.empty()) return "a protocol must not be empty";
  if (text.front() != '-' && !std::isdigit(static_cast<unsigned char>(text.front()))) return {};
  if (checks::check_whole(text, 0, 255).empty()) return {};
  return fmt::format("protocol {} is not from 0 to 255", text);
}

void say_not_found(const std::string& what) {
  std::fflush(stdout);
  fmt::print(stderr, "sockit lookup: {}\n", what);
}

// --reverse ADDRESS: a numeric IPv4 or IPv6 address (no port), or nullopt.
std::optional<net::Address> numeric_address(const std::string& text) {
  auto address = net::Address::parse(text.find(':') == std::string::npos ? text + ":0" : "[" + text + "]:0");
  if (!address) return std::nullopt;
  return *address;
}

std::string joined(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
  return text;
}

int run(const LookupOptions& o) {
  nlohmann::json report = nlohmann::json::object();
  int status = 0;

  if (!o.host.empty()) {
    const int family = o.family == 4 ? AF_INET : o.family == 6 ? AF_INET6 : AF_UNSPEC;
    // The flags getent ahosts uses, so both list the same addresses.
    auto found = net::resolve(o.host, "", {.family = family, .socktype = 0,
                                            .flags = AI_CANONNAME | AI_ADDRCONFIG | AI_V4MAPPED});
    if (!found && !not_found(found.error())) throw found.error();
    if (!found) {
      say_not_found(found.error().what());
      status = kNotFound;
    }
    const auto results = found ? *found : std::vector<net::Resolved>{};
    nlohmann::json list = nlohmann::json::array();
    if (!o.json && found) {
      fmt::print("{} (canonical name {})\n", o.host, results.empty() ? o.host : results.front().canonical_name);
      fmt::print("{:<40} {:<6} {:<7} {}\n", "ADDRESS", "FAMILY", "TYPE", "PROTOCOL");
    }
    for (const auto& r : results) {
      if (o.json) {
        list.push_back({{"address", r.address.host()},
                        {"family", tools::family_name(r.family)},
                        {"type", tools::socktype_name(r.socktype)},
                        {"protocol", tools::protocol_name(r.protocol)}});
      } else {
        fmt::print("{:<40} {:<6} {:<7} {}\n", r.address.host(), tools::family_name(r.family),
                   tools::socktype_name(r.socktype), tools::protocol_name(r.protocol));
      }
    }
    report["host"] = o.host;
    report["canonical_name"] = results.empty() ? o.host : results.front().canonical_name;
    report["addresses"] = list;
  }

  if (!o.reverse.empty()) {
    const auto address = numeric_address(o.reverse);  // checked by the parser
    auto name = net::reverse(*address);
    if (!name && !not_found(name.error())) throw name.error();
    if (name) {
      report["reverse"] = {{"address", o.reverse}, {"name", *name}};
      if (!o.json) fmt::print("{} is {}\n", o.reverse, *name);
    } else {
      say_not_found(name.error().what());
      report["reverse"] = {{"address", o.reverse}, {"name", nullptr}};
      status = kNotFound;
    }
  }

  if (!o.service.empty()) {
    auto entries = tools::find_service(o.service);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : entries) {
      list.push_back({{"name", e.name}, {"port", e.port}, {"protocol", e.protocol}, {"aliases", e.aliases}});
      if (!o.json) fmt::print("{:<16} {}/{}{}\n", e.name, e.port, e.protocol, e.aliases.empty() ? "" : "  " + joined(e.aliases));
    }
    if (entries.empty()) {
      say_not_found(fmt::format("no service '{}' in /etc/services", o.service));
      status = kNotFound;
    }
    report["service"] = list;
  }

  if (!o.protocol.empty()) {
    auto entry = tools::find_protocol(o.protocol);
    if (entry) {
      report["protocol"] = {{"name", entry->name}, {"number", entry->number}, {"aliases", entry->aliases}};
      if (!o.json) fmt::print("{:<16} {}{}\n", entry->name, entry->number, entry->aliases.empty() ? "" : "  " + joined(entry->aliases));
    } else {
      say_not_found(fmt::format("no protocol '{}' in /etc/protocols", o.protocol));
      report["protocol"] = nullptr;
      status = kNotFound;
    }
  }

  if (o.json) fmt::print("{}\n", report.dump(2));
  return status;
}

}  // namespace

Command add_lookup(CLI::App& app) {
  auto o = std::make_shared<LookupOptions>();
  auto* cmd = app.add_subcommand("lookup", "Look up host addresses, names, services and protocols");
  cmd->add_option("host", o->host, "host name or address to resolve (every address, like getent ahosts)")
      ->check(checks::non_empty());
  cmd->add_option("--reverse", o->reverse, "address to turn back into a name (getnameinfo)")
      ->check(CLI::Validator(
          [](std::string& text) {
            return numeric_address(text) ? std::string() : std::string("not a numeric IPv4 or IPv6 address");
          },
          ""));
  cmd->add_option("--service", o->service, "service name or port number, optionally /PROTOCOL: ssh, 22, "
                                           "ssh/tcp, 53/udp (/etc/services)")
      ->check(CLI::Validator(check_service, ""));
  cmd->add_option("--protocol", o->protocol, "protocol name or number (/etc/protocols)")
      ->check(CLI::Validator(check_protocol, ""));
  cmd->add_option("--family", o->family, "only IPv4 (4) or IPv6 (6) addresses")->transform(checks::whole(4, 6))->check(CLI::IsMember({4, 6}));
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->footer(
      "Exit status as getent's: 0 found, 2 not found (host, address, service or protocol), 1 when the\n"
      "look-up itself failed (no DNS server answered).\n\n"
      "Examples:\n  sockit lookup localhost\n  sockit lookup --service ssh/tcp\n  sockit lookup --protocol 17 --json");
  cmd->callback([cmd, o] {
    if (o->host.empty() && o->reverse.empty() && o->service.empty() && o->protocol.empty())
      throw CLI::RequiredError("a HOST, --reverse, --service or --protocol");
  });
  return {cmd, [o] { return run(*o); }};
}

}  // namespace sockit::cli
