#include "data/ding_corpus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// tests/fixtures/data/ding/de-en has one hand-written line per rule; the comments in the
// expectations below say which line produced each count.
TEST(DingCorpus, FixtureGivesExactPairsAndCounts) {
  const DingSentences ding = read_ding_sentences(test::fixture("ding/de-en"));
  EXPECT_THAT(
      ding.pairs,
      ElementsAre(SentencePair{"This is my house.", "Das ist mein Haus."},        // [ugs.] stripped
                  SentencePair{"The house is big.", "Das Haus ist groß."},        // 2nd " | " part
                  SentencePair{"He came too late.", "Er ist zu spät gekommen."},  // ";" variant
                  SentencePair{"We are leaving now.", "Wir gehen jetzt."},
                  SentencePair{"He resolved not to paint in oil.",
                               "Er fasste den Entschluss, nicht in Öl zu malen."},
                  SentencePair{"You must have dreamed it.", "Das musst du geträumt haben."},
                  SentencePair{"This is my house.", "Das ist mein Haus!"},  // not a duplicate
                  SentencePair{"It's fine like that.", "Es ist gut so."},   // ’ and spaces
                  SentencePair{"Shut up now!", "Halt den Mund!"},
                  SentencePair{"The night is long.", "Die Nacht ist lang."},
                  SentencePair{"The movie starts soon.", "Der Film beginnt bald."},
                  SentencePair{"The glass is empty.", "Das Glas ist leer."},
                  SentencePair{"Her voice is soft.", "Ihre Stimme ist sanft."}));
  const DingExtractionCounts& c = ding.counts;
  EXPECT_EQ(c.entries, 25);
  EXPECT_EQ(c.malformed_entries, 2);  // "Ja | Nein | Vielleicht :: yes | no", no " :: "
  EXPECT_EQ(c.sentence_pairs, 22);
  EXPECT_EQ(c.slash_alternatives, 1);   // home/back home
  EXPECT_EQ(c.ellipsis_templates, 2);   // "…" and "..."
  EXPECT_EQ(c.placeholders, 1);         // jdm. / sb.
  EXPECT_EQ(c.parentheses_removed, 2);  // "(seine Bilder)", "(in your sleep)"
  EXPECT_EQ(c.parentheses_dropped, 2);  // nested; "Ja (, das stimmt)."
  EXPECT_EQ(c.swapped_languages, 1);
  EXPECT_EQ(c.length_ratio, 1);
  EXPECT_EQ(c.duplicates, 1);
  EXPECT_EQ(c.kept, 13);
  EXPECT_EQ(c.sentence_pairs,
            c.slash_alternatives + c.ellipsis_templates + c.placeholders + c.parentheses_dropped +
                c.swapped_languages + c.length_ratio + c.duplicates + c.kept);
}

TEST(DingCorpus, RuleCountsListEveryRuleInOrder) {
  const DingSentences ding = read_ding_sentences(test::fixture("ding/de-en"));
  const auto rules = ding.counts.rule_counts();
  ASSERT_EQ(rules.size(), 12U);
  EXPECT_EQ(rules.front(), (std::pair<std::string, int64_t>{"dictionary entries", 25}));
  EXPECT_EQ(rules[3], (std::pair<std::string, int64_t>{"dropped: slash alternatives", 1}));
  EXPECT_EQ(rules.back(), (std::pair<std::string, int64_t>{"kept", 13}));
}

TEST(DingCorpus, LinesWithoutSentencesGiveNothing) {
  const DingSentences ding = extract_ding_sentences(
      {"# comment", "", "Haus {n} :: house", "gehen {vi} | ging :: to go | went"});
  EXPECT_TRUE(ding.pairs.empty());
  EXPECT_EQ(ding.counts.entries, 2);
  EXPECT_EQ(ding.counts.sentence_pairs, 0);
}

TEST(DingCorpus, MissingDictionarySaysWhichPackageToInstall) {
  try {
    read_ding_sentences("/nonexistent/trans/de-en");
    FAIL() << "no error for a missing dictionary";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/trans/de-en"));
    EXPECT_THAT(e.what(), HasSubstr("apt-get install trans-de-en"));
  }
}

}  // namespace
}  // namespace qkv
