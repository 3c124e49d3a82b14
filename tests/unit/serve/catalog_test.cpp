#include <gtest/gtest.h>

#include <filesystem>

#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

// Every transport DESIGN.md's table lists has a factory, and only those.
TEST(Catalog, EveryListedTransportHasAServiceNamedAfterIt) {
  ServiceOptions options;
  options.http.root = std::filesystem::temp_directory_path();  // http serves a directory
  for (const auto& info : catalog()) {
    auto tcp = make_tcp(info.name, options);
    auto udp = make_udp(info.name, options);
    EXPECT_EQ(has_tcp(info.name), info.tcp) << info.name;
    EXPECT_EQ(has_udp(info.name), info.udp) << info.name;
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
