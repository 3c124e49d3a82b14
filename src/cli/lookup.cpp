#include <fmt/core.h>
#include <netdb.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.hpp"
#include "net/address.hpp"
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
    auto results = net::resolve(o.host, "", {.family = family, .socktype = 0,
                                              .flags = AI_CANONNAME | AI_ADDRCONFIG | AI_V4MAPPED})
                       .value();
    nlohmann::json list = nlohmann::json::array();
    if (!o.json) {
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
    auto address = net::Address::parse(o.reverse.find(':') == std::string::npos ? o.reverse + ":0"
                                                                                : "[" + o.reverse + "]:0");
    const auto name = net::reverse(address.value()).value();
    report["reverse"] = {{"address", o.reverse}, {"name", name}};
    if (!o.json) fmt::print("{} is {}\n", o.reverse, name);
  }

  if (!o.service.empty()) {
    auto entries = tools::find_service(o.service);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : entries) {
      list.push_back({{"name", e.name}, {"port", e.port}, {"protocol", e.protocol}, {"aliases", e.aliases}});
      if (!o.json) fmt::print("{:<16} {}/{}{}\n", e.name, e.port, e.protocol, e.aliases.empty() ? "" : "  " + joined(e.aliases));
    }
    if (entries.empty()) {
      fmt::print(stderr, "sockit lookup: no service '{}' in /etc/services\n", o.service);
      status = 1;
    }
    report["service"] = list;
  }

  if (!o.protocol.empty()) {
    auto entry = tools::find_protocol(o.protocol);
    if (entry) {
      report["protocol"] = {{"name", entry->name}, {"number", entry->number}, {"aliases", entry->aliases}};
      if (!o.json) fmt::print("{:<16} {}{}\n", entry->name, entry->number, entry->aliases.empty() ? "" : "  " + joined(entry->aliases));
    } else {
      fmt::print(stderr, "sockit lookup: no protocol '{}' in /etc/protocols\n", o.protocol);
      report["protocol"] = nullptr;
      status = 1;
    }
  }

  if (o.json) fmt::print("{}\n", report.dump(2));
  return status;
}

}  // namespace

Command add_lookup(CLI::App& app) {
  auto o = std::make_shared<LookupOptions>();
  auto* cmd = app.add_subcommand("lookup", "Look up host addresses, names, services and protocols");
  cmd->add_option("host", o->host, "host name or address to resolve (every address, like getent ahosts)");
  cmd->add_option("--reverse", o->reverse, "address to turn back into a name (getnameinfo)");
  cmd->add_option("--service", o->service, "service name or port number (/etc/services)");
  cmd->add_option("--protocol", o->protocol, "protocol name or number (/etc/protocols)");
  cmd->add_option("--family", o->family, "only IPv4 (4) or IPv6 (6) addresses")->check(CLI::IsMember({4, 6}));
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->footer("Examples:\n  sockit lookup localhost\n  sockit lookup --service ssh\n  sockit lookup --protocol 17 --json");
  cmd->callback([cmd, o] {
    if (o->host.empty() && o->reverse.empty() && o->service.empty() && o->protocol.empty())
      throw CLI::RequiredError("a HOST, --reverse, --service or --protocol");
  });
  return {cmd, [o] { return run(*o); }};
}

}  // namespace sockit::cli
