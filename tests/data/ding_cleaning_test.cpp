#include "data/ding_cleaning.h"

#include <gtest/gtest.h>

namespace qkv {
namespace {

TEST(StripDingAnnotations, RemovesBracesBracketsAndAngles) {
  EXPECT_EQ(strip_ding_annotations("Haus {n} [arch.] <Häuser>"), "Haus   ");
  EXPECT_EQ(strip_ding_annotations("Dringend! [adm.]"), "Dringend! ");
  EXPECT_EQ(strip_ding_annotations("a {b [c] d} e"), "a  e");  // up to the first '}'
  EXPECT_EQ(strip_ding_annotations("open { only"), "open { only");
  EXPECT_EQ(strip_ding_annotations("x > y < z"), "x > y < z");
}

TEST(NormalizeSentenceText, UnifiesApostrophesAndWhitespace) {
  EXPECT_EQ(normalize_sentence_text("  It’s   here\t now.  "), "It's here now.");
  EXPECT_EQ(normalize_sentence_text("‘quoted’ and ´this´ and `that`"),
            "'quoted' and 'this' and 'that'");
  EXPECT_EQ(normalize_sentence_text("no\u00A0break"), "no break");
  EXPECT_EQ(normalize_sentence_text("   "), "");
}

TEST(IsFullSentence, NeedsCapitalEndPunctuationAndThreeWords) {
  EXPECT_TRUE(is_full_sentence("Das ist gut."));
  EXPECT_TRUE(is_full_sentence("Über alles hinweg!"));  // upper-case umlaut
  EXPECT_TRUE(is_full_sentence("Is it you?"));
  EXPECT_FALSE(is_full_sentence("Guten Morgen!"));   // two words
  EXPECT_FALSE(is_full_sentence("das ist gut."));    // lower case
  EXPECT_FALSE(is_full_sentence("Das ist gut"));     // no end punctuation
  EXPECT_FALSE(is_full_sentence("„Das ist gut.“"));  // starts with a quote mark
  EXPECT_FALSE(is_full_sentence("2022 war gut."));   // starts with a digit
  EXPECT_FALSE(is_full_sentence(""));
}

TEST(RemoveOptionalMaterial, RemovesParenthesesAndTidiesSpaces) {
  EXPECT_EQ(remove_optional_material("Du musst (aber) gehen."), "Du musst gehen.");
  EXPECT_EQ(remove_optional_material("You must have dreamed it (in your sleep)."),
            "You must have dreamed it.");
  EXPECT_EQ(remove_optional_material("He said (quietly), no (really) never."),
            "He said, no never.");
}

TEST(RemoveOptionalMaterial, RejectsBrokenOrEmptiedSentences) {
  EXPECT_EQ(remove_optional_material("Sie hat es (nicht (ganz)) verstanden."), std::nullopt);
  EXPECT_EQ(remove_optional_material("Sie hat es nicht) verstanden."), std::nullopt);
  EXPECT_EQ(remove_optional_material("Sie hat es (nicht verstanden."), std::nullopt);
  EXPECT_EQ(remove_optional_material("Ja (, das stimmt)."), std::nullopt);        // one word left
  EXPECT_EQ(remove_optional_material("(That was) just my luck!"), std::nullopt);  // lower case
}

TEST(LanguagesLookSwapped, DetectsEnglishOnTheGermanSide) {
  EXPECT_TRUE(languages_look_swapped("Following the 2022 season, he called it quits.",
                                     "Nach der Saison 2022 hörte er auf."));
  EXPECT_FALSE(languages_look_swapped("Nach der Saison 2022 hörte er auf.",
                                      "Following the 2022 season, he called it quits."));
  // Proper names and shared words are no evidence either way.
  EXPECT_FALSE(languages_look_swapped("Tom mag Berlin.", "Tom likes Berlin."));
  EXPECT_FALSE(languages_look_swapped("Das ist gut.", "Das ist gut."));
}

TEST(CleaningChecks, SlashEllipsisPlaceholderAndLengthRatio) {
  EXPECT_TRUE(has_slash_alternatives("The food/meal is hot."));
  EXPECT_FALSE(has_slash_alternatives("The food is hot."));
  EXPECT_TRUE(has_ellipsis("Was ist das Besondere an …?"));
  EXPECT_TRUE(has_ellipsis("That is a song by ..."));
  EXPECT_FALSE(has_ellipsis("Wait. Then go."));
  EXPECT_TRUE(has_placeholder("I like to help sb. out."));
  EXPECT_TRUE(has_placeholder("Ich helfe jdm. gern."));
  EXPECT_TRUE(has_placeholder("(mit etw.)"));
  EXPECT_FALSE(has_placeholder("Er isst Lebkuchenetw. gern."));  // inside a word
  EXPECT_FALSE(has_placeholder("Es gibt etwas zu tun."));
  EXPECT_TRUE(length_ratio_exceeds("abc", "abcdefg", 2.2));    // 7 > 6.6
  EXPECT_FALSE(length_ratio_exceeds("abc", "abcdef", 2.2));    // 6 <= 6.6
  EXPECT_FALSE(length_ratio_exceeds("Öl", "Oel", 2.2));        // code points, not bytes
  EXPECT_TRUE(length_ratio_exceeds("Öl ist da.", "Ol", 2.2));  // 10 > 4.4
}

}  // namespace
}  // namespace qkv
