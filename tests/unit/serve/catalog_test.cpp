#include <gtest/gtest.h>

#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

// Every transport DESIGN.md's table lists has a factory, and only those.
TEST(Catalog, EveryListedTransportHasAServiceNamedAfterIt) {
  for (const auto& info : catalog()) {
    auto tcp = make_tcp(info.name, {});
    auto udp = make_udp(info.name, {});
    EXPECT_EQ(tcp != nullptr, info.tcp) << info.name;
    EXPECT_EQ(udp != nullptr, info.udp) << info.name;
    if (tcp) {
      EXPECT_EQ(tcp->name(), info.name);
    }
    if (udp) {
      EXPECT_EQ(udp->name(), info.name);
    }
  }
}

TEST(Catalog, UnknownNameHasNoService) {
  EXPECT_EQ(make_tcp("gopher", {}), nullptr);
  EXPECT_EQ(find("gopher"), nullptr);
}

}  // namespace
}  // namespace sockit::serve::services
