#include <algorithm>

#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

struct Factories {
  std::string_view name;
  std::unique_ptr<Service> (*tcp)(const ServiceOptions&);
  std::unique_ptr<DatagramService> (*udp)(const ServiceOptions&);
};

constexpr Factories kFactories[] = {
    {"echo", make_echo_tcp, make_echo_udp},
    {"discard", make_discard_tcp, make_discard_udp},
    {"daytime", make_daytime_tcp, make_daytime_udp},
    {"chargen", make_chargen_tcp, make_chargen_udp},
    {"time", make_time_tcp, make_time_udp},
    {"fib", make_fib_tcp, nullptr},
    {"upper", make_upper_tcp, make_upper_udp},
    {"length", nullptr, make_length_udp},
    {"incr", make_incr_tcp, make_incr_udp},
    {"http", make_http_tcp, nullptr},
};

const Factories* factories(std::string_view name) {
  auto it = std::find_if(std::begin(kFactories), std::end(kFactories), [&](const auto& f) { return f.name == name; });
  return it == std::end(kFactories) ? nullptr : it;
}

}  // namespace

const std::vector<ServiceInfo>& catalog() {
  static const std::vector<ServiceInfo> table = {
      {"echo", 10007, 7, true, true},       {"discard", 10009, 9, true, true},
      {"daytime", 10013, 13, true, true},   {"chargen", 10019, 19, true, true},
      {"time", 10037, 37, true, true},      {"fib", 9000, 9000, true, false},
      {"upper", 50000, 50000, true, true},  {"length", 1060, 1060, false, true},
      {"incr", 5000, 5000, true, true},     {"http", 8080, 80, true, false},
  };
  return table;
}

const ServiceInfo* find(std::string_view name) {
  const auto& table = catalog();
  auto it = std::find_if(table.begin(), table.end(), [&](const auto& s) { return s.name == name; });
  return it == table.end() ? nullptr : &*it;
}

bool has_tcp(std::string_view name) {
  const auto* f = factories(name);
  return f && f->tcp;
}

bool has_udp(std::string_view name) {
  const auto* f = factories(name);
  return f && f->udp;
}

std::unique_ptr<Service> make_tcp(std::string_view name, const ServiceOptions& options) {
  const auto* f = factories(name);
  return f && f->tcp ? f->tcp(options) : nullptr;
}

std::unique_ptr<DatagramService> make_udp(std::string_view name, const ServiceOptions& options) {
  const auto* f = factories(name);
  return f && f->udp ? f->udp(options) : nullptr;
}

}  // namespace sockit::serve::services
