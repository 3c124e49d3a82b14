#include "http/target_path.hpp"

#include <gtest/gtest.h>

using namespace sockit::http;

namespace {

// "path" and a '/' when it is a directory, "?query" if any, or "refused".
std::string resolved(std::string_view target) {
  const auto t = resolve_target(target);
  if (!t) return "refused";
  return "[" + t->path + "]" + (t->directory ? " dir" : "") + (t->query.empty() ? "" : " ?" + t->query);
}

}  // namespace

TEST(ResolveTarget, MakesOriginFormARelativePath) {
  EXPECT_EQ(resolved("/"), "[] dir");
  EXPECT_EQ(resolved("/a/b.txt"), "[a/b.txt]");
  EXPECT_EQ(resolved("/dir/"), "[dir/] dir");
  EXPECT_EQ(resolved("/a/b?x=%20&y"), "[a/b] ?x=%20&y");
}

TEST(ResolveTarget, DecodesPercentOnce) {
  EXPECT_EQ(resolved("/a%20b/%C3%A9"), "[a b/\xC3\xA9]");
  EXPECT_EQ(resolved("/%252e%252e/x"), "[%2e%2e/x]");
}

TEST(ResolveTarget, RefusesABadPercent) {
  for (const char* target : {"/%", "/%2", "/%zz", "/a%g0"}) EXPECT_EQ(resolved(target), "refused") << target;
}

TEST(ResolveTarget, DropsDotAndEmptySegments) {
  EXPECT_EQ(resolved("//a/./b//c"), "[a/b/c]");
  EXPECT_EQ(resolved("/a/b/../c"), "[a/c]");
  EXPECT_EQ(resolved("/a/."), "[a/] dir");
  EXPECT_EQ(resolved("/a/b/.."), "[a/] dir");
  EXPECT_EQ(resolved("/a/.."), "[] dir");
}

TEST(ResolveTarget, NeverClimbsAboveTheRoot) {
  for (const char* target : {"/..", "/../", "/../etc/passwd", "/%2e%2e/", "/%2E%2E/etc/passwd", "/a/%2e%2e/%2e%2e/",
                             "/a/../../x", "/.%2e/x", "/%2f..%2f..%2fetc", "/a%2f..%2f..%2fetc", "/a/b/../../../"}) {
    EXPECT_EQ(resolved(target), "refused") << target;
  }
}

TEST(ResolveTarget, TakesAnEncodedSlashAsASeparator) {
  EXPECT_EQ(resolved("/a%2fb"), "[a/b]");
  EXPECT_EQ(resolved("/a%2f..%2fb"), "[b]");
}

TEST(ResolveTarget, RefusesNulControlsAndBackslashes) {
  for (const char* target : {"/a%00b", "/%00", "/a%0a", "/a%7f", "/a\\b", "/a%5cb", "/..%5c..%5cetc"}) {
    EXPECT_EQ(resolved(target), "refused") << target;
  }
}

TEST(ResolveTarget, TakesAbsoluteForm) {
  EXPECT_EQ(resolved("http://host/x"), "[x]");
  EXPECT_EQ(resolved("HTTP://host:8080/a/b?q"), "[a/b] ?q");
  EXPECT_EQ(resolved("http://host"), "[] dir");
  EXPECT_EQ(resolved("https://host?q=1"), "[] dir ?q=1");
  EXPECT_EQ(resolved("http://host/../x"), "refused");
}

TEST(ResolveTarget, RefusesATargetWithoutLeadingSlash) {
  for (const char* target : {"*", "", "a/b", "host:80", "?q", "ftp://host/x"}) EXPECT_EQ(resolved(target), "refused") << target;
}

TEST(HtmlEscape, EscapesTheFiveCharacters) {
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST(UrlEncode, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(url_encode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(url_encode("a b/c?%\xC3\xA9"), "a%20b%2Fc%3F%25%C3%A9");
}
