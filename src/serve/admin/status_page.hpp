#pragma once

#include <string_view>

namespace sockit::serve::admin {

/// The admin endpoint's HTML page (status_page.html, compiled in at build time): no external
/// asset; it fetches status.json every second and draws it.
std::string_view status_page() noexcept;

}  // namespace sockit::serve::admin
