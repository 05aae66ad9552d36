#include "data/parallel_corpus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

using test::TempDir;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string error_of(const std::filesystem::path& source, const std::filesystem::path& target) {
  try {
    read_parallel_corpus(source, target);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no std::runtime_error thrown";
  return {};
}

TEST(ReadParallelCorpus, PairsLinesInOrderAndStripsThem) {
  TempDir dir;
  test::write_file(dir / "a.en", "  Hello .\nGood night.\t\n");
  test::write_gzip(dir / "a.de.gz", "Hallo .\n  Gute Nacht.\n");
  const ParallelCorpus corpus = read_parallel_corpus(dir / "a.en", dir / "a.de.gz");
  EXPECT_THAT(
      corpus.pairs,
      ElementsAre(SentencePair{"Hello .", "Hallo ."}, SentencePair{"Good night.", "Gute Nacht."}));
  EXPECT_EQ(corpus.empty_lines_skipped, 0);
}

TEST(ReadParallelCorpus, EmptyLinesDropTheirWholePairAndAreCounted) {
  TempDir dir;
  test::write_file(dir / "a.en", "one\n\nthree\n   \nfive\n");
  test::write_file(dir / "a.de", "eins\nzwei\n\nvier\nfünf\n");
  const ParallelCorpus corpus = read_parallel_corpus(dir / "a.en", dir / "a.de");
  // Lines 2, 3 and 4 each have one empty side; the rest stays aligned.
  EXPECT_THAT(corpus.pairs, ElementsAre(SentencePair{"one", "eins"}, SentencePair{"five", "fünf"}));
  EXPECT_EQ(corpus.empty_lines_skipped, 3);
}

TEST(ReadParallelCorpus, DifferentLineCountsNameBothFilesAndCounts) {
  TempDir dir;
  test::write_file(dir / "a.en", "one\ntwo\nthree\n");
  test::write_file(dir / "a.de", "eins\nzwei\n");
  EXPECT_THAT(error_of(dir / "a.en", dir / "a.de"),
              AllOf(HasSubstr((dir / "a.en").string() + " has 3 lines"),
                    HasSubstr((dir / "a.de").string() + " has 2")));
}

TEST(ReadParallelCorpus, MissingFileIsNamed) {
  TempDir dir;
  test::write_file(dir / "a.en", "one\n");
  EXPECT_THAT(error_of(dir / "a.en", dir / "missing.de"),
              HasSubstr((dir / "missing.de").string() + ": no such file"));
  EXPECT_THAT(error_of(dir / "missing.en", dir / "a.en"),
              HasSubstr((dir / "missing.en").string() + ": no such file"));
}

TEST(ReadParallelCorpus, InvalidUtf8NamesFileAndLine) {
  TempDir dir;
  test::write_file(dir / "a.en", "one\ntwo\n");
  test::write_file(dir / "a.de", "eins\nzw\xF6lf\n");
  EXPECT_THAT(error_of(dir / "a.en", dir / "a.de"),
              HasSubstr((dir / "a.de").string() + ":2: invalid UTF-8"));
}

TEST(StripWhitespace, RemovesAsciiWhitespaceAtBothEnds) {
  EXPECT_EQ(strip_whitespace(" \t a b \r\n"), "a b");
  EXPECT_EQ(strip_whitespace("   "), "");
  EXPECT_EQ(strip_whitespace(""), "");
}

}  // namespace
}  // namespace qkv
