#include "http/mime_types.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "test_support.hpp"

using namespace sockit::http;

TEST(MimeTypes, ReadsTheSystemsList) {
  const auto types = MimeTypes::load();
  EXPECT_EQ(types.type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(types.type_for("photo.JPG"), "image/jpeg");
  EXPECT_EQ(types.type_for("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(types.type_for("data.json"), "application/json; charset=utf-8");
  EXPECT_EQ(types.type_for("logo.svg"), "image/svg+xml; charset=utf-8");
  EXPECT_EQ(types.type_for("movie.mp4"), "video/mp4");
}

TEST(MimeTypes, GivesTheDefaultForUnknownOrMissingExtensions) {
  const auto types = MimeTypes::load();
  EXPECT_EQ(types.type_for("file.unknown-extension"), MimeTypes::kDefault);
  EXPECT_EQ(types.type_for("README"), MimeTypes::kDefault);
  EXPECT_EQ(types.type_for(".html"), MimeTypes::kDefault);
  EXPECT_EQ(types.type_for("dir.html/README"), MimeTypes::kDefault);
  EXPECT_EQ(types.type_for("file."), MimeTypes::kDefault);
}

TEST(MimeTypes, FallsBackToItsOwnTableWithoutAFile) {
  const auto types = MimeTypes::load("/nonexistent/mime.types");
  for (const char* name : {"a.html", "a.css", "a.js", "a.json", "a.txt", "a.png", "a.jpg", "a.gif", "a.svg", "a.webp",
                           "a.ico", "a.mp4", "a.webm", "a.pdf", "a.wasm"}) {
    EXPECT_NE(types.type_for(name), MimeTypes::kDefault) << name;
  }
  EXPECT_EQ(types.type_for("a.txt"), "text/plain; charset=utf-8");
}

TEST(MimeTypes, ReadsTypesCommentsAndFirstMentionWins) {
  sockit::testing::TempDir dir;
  std::ofstream(dir.file("mime.types")) << "# comment\ntext/x-first\tfoo bar # trailing\n\napplication/x-second foo\n"
                                         "application/x-lonely\nimage/png png\n";
  const auto types = MimeTypes::load(dir.file("mime.types"));
  EXPECT_EQ(types.type_for("a.FOO"), "text/x-first; charset=utf-8");
  EXPECT_EQ(types.type_for("a.bar"), "text/x-first; charset=utf-8");
  EXPECT_EQ(types.type_for("a.trailing"), MimeTypes::kDefault);
  EXPECT_EQ(types.type_for("a.wasm"), "application/wasm");  // the built-in table fills gaps
}
