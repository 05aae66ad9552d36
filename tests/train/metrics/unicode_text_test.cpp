// Python-compatible UTF-8, whitespace, split/strip and lowercasing. Expected values are what
// CPython 3.11 returns (written out by hand below); unicode_tables_test.cpp also compares
// every code point with a live python3.
#include "train/metrics/unicode_text.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace qkv {
namespace {

std::string lower_utf8(const std::string& text) {
  return encode_utf8(python_lower(decode_utf8(text)));
}

TEST(UnicodeText, Utf8RoundTripCountsCodePoints) {
  const std::string text = "a\u00e9\u20ac\U0001F600";  // 1-, 2-, 3- and 4-byte sequences
  const std::u32string decoded = decode_utf8(text);
  EXPECT_EQ(decoded, (std::u32string{U'a', 0xE9, 0x20AC, 0x1F600}));
  EXPECT_EQ(encode_utf8(decoded), text);
}

TEST(UnicodeText, RejectsWhatPythonRejects) {
  EXPECT_THROW(decode_utf8("\xC0\x80"), std::invalid_argument);          // overlong NUL
  EXPECT_THROW(decode_utf8("\xE0\x80\xAF"), std::invalid_argument);      // overlong '/'
  EXPECT_THROW(decode_utf8("\xED\xA0\x80"), std::invalid_argument);      // surrogate U+D800
  EXPECT_THROW(decode_utf8("\xF4\x90\x80\x80"), std::invalid_argument);  // above U+10FFFF
  EXPECT_THROW(decode_utf8("\xE2\x82"), std::invalid_argument);          // truncated
  EXPECT_THROW(decode_utf8("\x80"), std::invalid_argument);              // lone continuation
  EXPECT_THROW(decode_utf8("\xFF"), std::invalid_argument);
  EXPECT_EQ(decode_utf8("\xEF\xBB\xBF"
                        "a")
                .size(),
            2u);  // a BOM is a code point (U+FEFF)
}

TEST(UnicodeText, WhitespaceIsPythonsIsspace) {
  for (const char32_t c : {0x09,
                           0x0A,
                           0x0B,
                           0x0C,
                           0x0D,
                           0x1C,
                           0x1F,
                           0x20,
                           0x85,
                           0xA0,
                           0x1680,
                           0x2000,
                           0x200A,
                           0x2028,
                           0x2029,
                           0x202F,
                           0x205F,
                           0x3000}) {
    EXPECT_TRUE(is_python_whitespace(c)) << std::hex << static_cast<uint32_t>(c);
  }
  // Not whitespace in Python: zero-width space, BOM, U+180E, NUL, U+200B.
  for (const char32_t c : {0x00, 0x08, 0x21, 0x180E, 0x200B, 0xFEFF, 0x2060}) {
    EXPECT_FALSE(is_python_whitespace(c)) << std::hex << static_cast<uint32_t>(c);
  }
}

TEST(UnicodeText, SplitAndStripLikePython) {
  const std::u32string text = U"\u3000 a\u00a0b\t\tc \u2028";
  const std::vector<std::u32string_view> words = python_split(text);
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(words[0], U"a");
  EXPECT_EQ(words[2], U"c");
  EXPECT_EQ(python_rstrip(text), U"\u3000 a\u00a0b\t\tc");
  EXPECT_EQ(python_strip(text), U"a\u00a0b\t\tc");
  EXPECT_EQ(remove_python_whitespace(text), U"abc");
  EXPECT_TRUE(python_split(U" \t ").empty());
}

TEST(UnicodeText, LowerUsesFullMappingAndFinalSigma) {
  EXPECT_EQ(lower_utf8("Straße ÄÖÜ"), "straße äöü");
  // U+0130 lowercases to "i" + combining dot above (two code points).
  EXPECT_EQ(lower_utf8("İstanbul"), "i\u0307stanbul");
  // Capital sigma: final (U+03C2) after a cased letter and not before one, else U+03C3.
  EXPECT_EQ(lower_utf8("ΟΔΟΣ"), "οδος");
  EXPECT_EQ(lower_utf8("Σ"), "σ");          // nothing cased before it
  EXPECT_EQ(lower_utf8("ΑΣ ΒΑ"), "ας βα");  // end of a word
  EXPECT_EQ(lower_utf8("ΑΣΑ"), "ασα");      // inside a word
  EXPECT_EQ(lower_utf8("Α'Σ"), "α'ς");      // apostrophe is case-ignorable
  EXPECT_EQ(lower_utf8("ΑΣ'Β"), "ασ'β");    // ... on both sides
  EXPECT_EQ(lower_utf8("ΣΑΣ."), "σας.");
  EXPECT_EQ(lower_utf8("ΑΣ1"), "ας1");            // a digit is not cased
  EXPECT_EQ(lower_utf8("A\u0301Σ"), "a\u0301ς");  // combining accent is case-ignorable
}

}  // namespace
}  // namespace qkv
