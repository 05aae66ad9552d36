#include "data/utf8.h"

#include <gtest/gtest.h>

namespace qkv {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ASCII"));
  EXPECT_TRUE(is_valid_utf8("Größe – „Zitat“ €"));
  EXPECT_TRUE(is_valid_utf8("Привет"));
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));  // U+1F600, four bytes
}

TEST(Utf8, RejectsMalformedText) {
  EXPECT_FALSE(is_valid_utf8("\xFF"));              // never valid
  EXPECT_FALSE(is_valid_utf8("caf\xE9"));           // Latin-1 é
  EXPECT_FALSE(is_valid_utf8("\xC3"));              // truncated two-byte sequence
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation byte
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
}

TEST(Utf8, DecodesAndCountsCodePoints) {
  const std::string text = "aß€\xF0\x9F\x98\x80";
  std::size_t pos = 0;
  EXPECT_EQ(next_code_point(text, pos), U'a');
  EXPECT_EQ(next_code_point(text, pos), U'ß');
  EXPECT_EQ(next_code_point(text, pos), U'€');
  EXPECT_EQ(next_code_point(text, pos), char32_t{0x1F600});
  EXPECT_EQ(pos, text.size());
  EXPECT_EQ(code_point_count(text), 4U);
}

TEST(Utf8, EncodingRoundTrips) {
  for (const char32_t cp : {U'a', U'ß', U'€', char32_t{0x1F600}}) {
    std::string out;
    append_utf8(out, cp);
    std::size_t pos = 0;
    EXPECT_EQ(next_code_point(out, pos), cp);
    EXPECT_EQ(pos, out.size());
  }
}

TEST(Utf8, LetterClassesAndLowerCase) {
  EXPECT_TRUE(is_letter(U'a'));
  EXPECT_TRUE(is_letter(U'Ä'));
  EXPECT_TRUE(is_letter(U'ж'));
  EXPECT_FALSE(is_letter(U'1'));
  EXPECT_FALSE(is_letter(U'×'));
  EXPECT_FALSE(is_letter(U'„'));
  EXPECT_TRUE(is_upper(U'Ü'));
  EXPECT_TRUE(is_upper(U'Ł'));
  EXPECT_TRUE(is_upper(U'Ж'));
  EXPECT_FALSE(is_upper(U'ü'));
  EXPECT_FALSE(is_upper(U'ł'));
  EXPECT_FALSE(is_upper(U'ß'));
  EXPECT_EQ(to_lower(U'Ü'), U'ü');
  EXPECT_EQ(to_lower(U'Ł'), U'ł');
  EXPECT_EQ(to_lower(U'Ж'), U'ж');
  EXPECT_EQ(to_lower(U'Ё'), U'ё');
  EXPECT_EQ(to_lower(U'x'), U'x');
}

}  // namespace
}  // namespace qkv
