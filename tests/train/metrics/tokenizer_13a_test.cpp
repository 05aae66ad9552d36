// The 13a tokenizer, one rule per test. Expected strings follow the rules of
// sacrebleu/tokenizers/tokenizer_13a.py and tokenizer_re.py applied by hand.
#include "train/metrics/tokenizer_13a.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace qkv {
namespace {

TEST(Tokenizer13a, PadsAsciiPunctuation) {
  EXPECT_EQ(tokenize_13a("Hello, world!"), "Hello , world !");
  EXPECT_EQ(tokenize_13a("(a+b)/c=d?"), "( a + b ) / c = d ?");
  EXPECT_EQ(tokenize_13a("x[1]{2}|~^_`@#$%&\"y"), "x [ 1 ] { 2 } | ~ ^ _ ` @ # $ % & \" y");
}

TEST(Tokenizer13a, KeepsApostrophesAndInnerDashes) {
  EXPECT_EQ(tokenize_13a("don't well-known"), "don't well-known");
}

TEST(Tokenizer13a, PeriodAndCommaDependOnDigits) {
  // Kept inside numbers (digit on both sides), split elsewhere.
  EXPECT_EQ(tokenize_13a("3.5 1,000 end."), "3.5 1,000 end .");
  // Digit only before: "1." -> rule "unless followed by a digit" still splits it.
  EXPECT_EQ(tokenize_13a("in 1995."), "in 1995 .");
  // Digit only after: ".5" -> rule "unless preceded by a digit" splits it.
  EXPECT_EQ(tokenize_13a("a .5"), "a . 5");
  // Two in a row: the first substitution consumes "a." so ".," is handled by the second.
  EXPECT_EQ(tokenize_13a("a.,b"), "a . , b");
}

TEST(Tokenizer13a, SplitsDashAfterDigitOnly) {
  EXPECT_EQ(tokenize_13a("1990-2000"), "1990 - 2000");
  EXPECT_EQ(tokenize_13a("COVID-19"), "COVID-19");
}

TEST(Tokenizer13a, UnescapesEntitiesInOrderAndDropsSkipped) {
  EXPECT_EQ(tokenize_13a("&quot;a&quot; &amp; b &lt;c&gt;"), "\" a \" & b < c >");
  // &amp; is replaced after &quot;, so "&amp;quot;" becomes the literal text "&quot;",
  // whose & and ; are then padded.
  EXPECT_EQ(tokenize_13a("&amp;quot;"), "& quot ;");
  EXPECT_EQ(tokenize_13a("a<skipped>b"), "ab");
  EXPECT_EQ(tokenize_13a("hyphen-\nated two\nlines"), "hyphenated two lines");
}

TEST(Tokenizer13a, UnicodePunctuationIsNotSplit) {
  // 13a's regexes are ASCII: German quotes, guillemets, dashes and the ellipsis stay attached
  // to words; only the ASCII comma and period are split off.
  EXPECT_EQ(tokenize_13a("„Hallo“, sagte er."), "„Hallo“ , sagte er .");
  EXPECT_EQ(tokenize_13a("«Oui» — dit-il…"), "«Oui» — dit-il…");
  EXPECT_EQ(tokenize_13a("1990–2000"), "1990–2000");  // en dash: not "-"
  // [^0-9] is any code point but ASCII digits, so an Arabic-Indic digit does not protect ".".
  EXPECT_EQ(tokenize_13a("٣.٥"), "٣ . ٥");
  // Python whitespace (no-break space, ideographic space) separates tokens.
  EXPECT_EQ(tokenize_13a("a\u00a0b\u3000c"), "a b c");
}

TEST(Tokenizer13a, EmptyAndWhitespaceOnly) {
  EXPECT_EQ(tokenize_13a(""), "");
  EXPECT_EQ(tokenize_13a(" \t "), "");
}

TEST(Tokenizer13a, RejectsInvalidUtf8) {
  EXPECT_THROW(tokenize_13a(std::string_view("\xC3\x28")), std::invalid_argument);
}

}  // namespace
}  // namespace qkv
