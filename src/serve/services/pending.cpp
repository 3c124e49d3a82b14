// Scaffolding while the services land: each factory here moves to its service's file. Delete
// this file when it is empty.
#include "serve/services/services.hpp"

namespace sockit::serve::services {

std::unique_ptr<Service> make_discard_tcp(const ServiceOptions&) { return nullptr; }
std::unique_ptr<DatagramService> make_discard_udp(const ServiceOptions&) { return nullptr; }
std::unique_ptr<Service> make_chargen_tcp(const ServiceOptions&) { return nullptr; }
std::unique_ptr<DatagramService> make_chargen_udp(const ServiceOptions&) { return nullptr; }
std::unique_ptr<Service> make_daytime_tcp(const ServiceOptions&) { return nullptr; }
std::unique_ptr<DatagramService> make_daytime_udp(const ServiceOptions&) { return nullptr; }
std::unique_ptr<Service> make_time_tcp(const ServiceOptions&) { return nullptr; }
std::unique_ptr<DatagramService> make_time_udp(const ServiceOptions&) { return nullptr; }
std::unique_ptr<Service> make_fib_tcp(const ServiceOptions&) { return nullptr; }
std::unique_ptr<Service> make_upper_tcp(const ServiceOptions&) { return nullptr; }
std::unique_ptr<DatagramService> make_upper_udp(const ServiceOptions&) { return nullptr; }
std::unique_ptr<DatagramService> make_length_udp(const ServiceOptions&) { return nullptr; }
std::unique_ptr<Service> make_incr_tcp(const ServiceOptions&) { return nullptr; }
std::unique_ptr<DatagramService> make_incr_udp(const ServiceOptions&) { return nullptr; }

}  // namespace sockit::serve::services
