#include "data/io/utf8.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

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

TEST(Utf8, DecodeCodePointStopsAtMalformedSequences) {
  const std::string text = "a\xC3\xA4\xE2\x82";  // 'a', U+00E4, then a cut three-byte sequence
  std::size_t pos = 0;
  char32_t cp = 0;
  EXPECT_TRUE(decode_code_point(text, pos, cp));
  EXPECT_EQ(cp, U'a');
  EXPECT_TRUE(decode_code_point(text, pos, cp));
  EXPECT_EQ(cp, char32_t{0xE4});
  EXPECT_EQ(pos, 3U);
  EXPECT_FALSE(decode_code_point(text, pos, cp));
  EXPECT_EQ(pos, 3U);  // unchanged on failure
  EXPECT_EQ(cp, char32_t{0xE4});
}

TEST(Utf8, DecodeUtf8IsAsStrictAsPython) {
  EXPECT_EQ(decode_utf8("aß€\xF0\x9F\x98\x80"), (std::u32string{U'a', U'ß', U'€', 0x1F600}));
  EXPECT_EQ(decode_utf8(""), std::u32string());
  for (const char* bad : {"\xC0\x80",
                          "\xE0\x80\xAF",
                          "\xED\xA0\x80",
                          "\xF4\x90\x80\x80",
                          "\xE2\x82",
                          "\x80",
                          "\xFF"}) {
    EXPECT_THROW(decode_utf8(bad), std::invalid_argument) << bad;
  }
  try {
    decode_utf8("ok \xFF");
    FAIL() << "invalid UTF-8 must throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "invalid UTF-8 at byte 3");
  }
}

TEST(Utf8, NextCodePointSkipsAMalformedByteAsAReplacementCharacter) {
  const std::string text =
      "\xFF"
      "a";
  std::size_t pos = 0;
  EXPECT_EQ(next_code_point(text, pos), char32_t{0xFFFD});
  EXPECT_EQ(pos, 1U);
  EXPECT_EQ(next_code_point(text, pos), U'a');
}

TEST(Utf8, WalksBackAndCutsByCodePoints) {
  const std::string text = "aß€\xF0\x9F\x98\x80";  // code points start at bytes 0, 1, 3, 6
  EXPECT_EQ(previous_code_point_start(text, text.size()), 6U);
  EXPECT_EQ(previous_code_point_start(text, 6), 3U);
  EXPECT_EQ(previous_code_point_start(text, 3), 1U);
  EXPECT_EQ(previous_code_point_start(text, 1), 0U);
  EXPECT_EQ(code_point_prefix(text, 0), "");
  EXPECT_EQ(code_point_prefix(text, 2), "aß");
  EXPECT_EQ(code_point_prefix(text, 3), "aß€");
  EXPECT_EQ(code_point_prefix(text, 4), text);
  EXPECT_EQ(code_point_prefix(text, 99), text);
}

TEST(Utf8, EncodingRoundTrips) {
  for (const char32_t cp : {U'a', U'ß', U'€', char32_t{0x1F600}}) {
    std::string out;
    append_utf8(out, cp);
    std::size_t pos = 0;
    EXPECT_EQ(next_code_point(out, pos), cp);
    EXPECT_EQ(pos, out.size());
  }
  const std::u32string all = {U'a', U'ß', U'€', 0x1F600, 0x10FFFF};
  EXPECT_EQ(decode_utf8(encode_utf8(all)), all);
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
