#include "http/byte_range.hpp"

#include <gtest/gtest.h>

using namespace sockit::http;
using Kind = RangeRequest::Kind;

namespace {

// "a-b,c-d" for the ranges, or the kind's name.
std::string describe(const RangeRequest& r) {
  if (r.kind == Kind::whole) return "whole";
  if (r.kind == Kind::unsatisfiable) return "unsatisfiable";
  std::string text;
  for (const auto& range : r.ranges) text += (text.empty() ? "" : ",") + std::to_string(range.first) + "-" + std::to_string(range.last);
  return text;
}

}  // namespace

TEST(ParseRange, TakesTheThreeFormsOfRange) {
  EXPECT_EQ(describe(parse_range("bytes=0-99", 1000)), "0-99");
  EXPECT_EQ(describe(parse_range("bytes=900-", 1000)), "900-999");
  EXPECT_EQ(describe(parse_range("bytes=-50", 1000)), "950-999");
}

TEST(ParseRange, TakesTheUnitInAnyCaseAndSpacesBetweenParts) {
  EXPECT_EQ(describe(parse_range("BYTES=0-0, 5-5 ,, 9-", 10)), "0-0,5-5,9-9");
}

TEST(ParseRange, ClampsALastPastTheEnd) {
  EXPECT_EQ(describe(parse_range("bytes=5-99999999999999999999999", 10)), "5-9");
}

TEST(ParseRange, GivesTheWholeForASuffixLongerThanIt) {
  EXPECT_EQ(describe(parse_range("bytes=-5000", 1000)), "0-999");
}

TEST(ParseRange, DropsRangesStartingAtOrPastTheEnd) {
  EXPECT_EQ(describe(parse_range("bytes=1000-,0-0,5000-6000", 1000)), "0-0");
}

TEST(ParseRange, IsUnsatisfiableWhenNoRangeRemains) {
  EXPECT_EQ(describe(parse_range("bytes=1000-", 1000)), "unsatisfiable");
  EXPECT_EQ(describe(parse_range("bytes=-0", 1000)), "unsatisfiable");
  EXPECT_EQ(describe(parse_range("bytes=0-,-5", 0)), "unsatisfiable");
  EXPECT_EQ(describe(parse_range("bytes=18446744073709551616-", 10)), "unsatisfiable");
}

TEST(ParseRange, IgnoresOtherUnitsAndMalformedValues) {
  for (const char* value : {"", "bytes", "bytes=", "items=0-1", "bytes =0-1", "bytes=1-0", "bytes=a-b", "bytes=-",
                            "bytes=0-1-2", "bytes=+1-2", "bytes=0-1,x", "bytes=0 -1", "bytes=,"}) {
    EXPECT_EQ(describe(parse_range(value, 100)), "whole") << value;
  }
}

TEST(ParseRange, IgnoresMorePartsThanTheLimit) {
  std::string many = "bytes=0-0";
  for (int i = 1; i < 32; ++i) many += "," + std::to_string(2 * i) + "-" + std::to_string(2 * i);
  EXPECT_EQ(parse_range(many, 100).ranges.size(), 32u);
  EXPECT_EQ(describe(parse_range(many + ",90-90", 100)), "whole");
  EXPECT_EQ(describe(parse_range("bytes=0-0,2-2,4-4", 100, 2)), "whole");
}

TEST(ParseRange, SortsAndMergesOverlappingAndAdjacentRanges) {
  EXPECT_EQ(describe(parse_range("bytes=50-59,0-9,10-19,5-7,30-40,35-", 100)), "0-19,30-99");
}

TEST(ParseRange, MergesTheApacheKillersRangesIntoOne) {
  std::string killer = "bytes=0-";
  for (int i = 0; i < 31; ++i) killer += ",5-" + std::to_string(5 + i);
  EXPECT_EQ(describe(parse_range(killer, 1000)), "0-999");
}

TEST(Multipart, WritesPartHeadsAndTailAsRfc9110) {
  const auto body = multipart({{0, 1}, {5, 9}}, 10, "text/plain", "XYZ");
  ASSERT_EQ(body.parts.size(), 2u);
  EXPECT_EQ(body.parts[0].head, "\r\n--XYZ\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n");
  EXPECT_EQ(body.parts[1].head, "\r\n--XYZ\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-9/10\r\n\r\n");
  EXPECT_EQ(body.tail, "\r\n--XYZ--\r\n");
}

TEST(Multipart, SaysItsExactBodyLength) {
  const auto body = multipart({{0, 1}, {5, 9}}, 10, "text/plain", "XYZ");
  EXPECT_EQ(body.body_length(), body.parts[0].head.size() + 2 + body.parts[1].head.size() + 5 + body.tail.size());
}
