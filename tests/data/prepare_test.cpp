#include "data/prepare.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

using test::ScopedEnv;
using test::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

DataConfig ding_fixture_config(const TempDir& out) {
  DataConfig config;  // corpus ding-en-de, en -> de
  config.raw_dir = test::fixture("ding").string();
  config.prepared_dir = (out / "prepared").string();
  return config;
}

template <class Exception>
std::string error_of(const DataConfig& config) {
  try {
    prepare_corpus(config);
  } catch (const Exception& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected exception not thrown";
  return {};
}

TEST(PrepareCorpus, DingFixtureWritesHashSplitFiles) {
  TempDir out;
  const PreparedCorpus prepared = prepare_corpus(ding_fixture_config(out));
  const auto dir = out / "prepared";
  EXPECT_EQ(prepared.dir, dir);
  EXPECT_FALSE(prepared.reused);
  EXPECT_EQ(prepared.train.source, dir / "train.en");
  EXPECT_EQ(prepared.train.target, dir / "train.de");
  EXPECT_EQ(prepared.train.pairs, 9);
  EXPECT_EQ(prepared.valid.pairs, 2);
  EXPECT_EQ(prepared.test.pairs, 2);
  // Assignments by Python's zlib.crc32(english) % 20 (see split_test.cpp).
  EXPECT_EQ(test::read_file(dir / "valid.en"), "The glass is empty.\nHer voice is soft.\n");
  EXPECT_EQ(test::read_file(dir / "valid.de"), "Das Glas ist leer.\nIhre Stimme ist sanft.\n");
  EXPECT_EQ(test::read_file(dir / "test.en"), "The night is long.\nThe movie starts soon.\n");
  EXPECT_EQ(test::read_file(dir / "test.de"), "Die Nacht ist lang.\nDer Film beginnt bald.\n");
  EXPECT_THAT(read_prepared_split(prepared.train),
              ::testing::Contains(SentencePair{"It's fine like that.", "Es ist gut so."}));
  ASSERT_FALSE(prepared.rule_counts.empty());
  EXPECT_EQ(prepared.rule_counts.back(), (std::pair<std::string, int64_t>{"kept", 13}));
}

TEST(PrepareCorpus, CompleteEarlierRunIsReusedWithItsCounts) {
  TempDir out;
  const PreparedCorpus first = prepare_corpus(ding_fixture_config(out));
  const PreparedCorpus again = prepare_corpus(ding_fixture_config(out));
  EXPECT_TRUE(again.reused);
  EXPECT_EQ(again.train.pairs, first.train.pairs);
  EXPECT_EQ(again.test.pairs, first.test.pairs);
  EXPECT_EQ(again.rule_counts, first.rule_counts);
}

TEST(PrepareCorpus, InterruptedOrDamagedOutputIsPreparedAgain) {
  TempDir out;
  const auto dir = out / "prepared";
  prepare_corpus(ding_fixture_config(out));
  // A run killed before its stamp: files may be there, but nothing vouches for them.
  std::filesystem::remove(dir / "prepared.stamp");
  test::write_file(dir / "train.en", "half a fi");
  EXPECT_FALSE(prepare_corpus(ding_fixture_config(out)).reused);
  EXPECT_EQ(read_prepared_split({dir / "train.en", dir / "train.de", 9}).size(), 9U);
  // A split file removed after the stamp was written.
  std::filesystem::remove(dir / "test.de");
  EXPECT_FALSE(prepare_corpus(ding_fixture_config(out)).reused);
  EXPECT_TRUE(std::filesystem::exists(dir / "test.de"));
  // Only finished files remain: no temporary leftovers.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().string().find(".partial"), std::string::npos) << entry.path();
  }
}

TEST(PrepareCorpus, ChangedInputIsPreparedAgain) {
  TempDir out;
  std::filesystem::create_directories(out / "raw");
  std::filesystem::copy_file(test::fixture("ding/de-en"), out / "raw" / "de-en");
  DataConfig config = ding_fixture_config(out);
  config.raw_dir = (out / "raw").string();
  EXPECT_EQ(prepare_corpus(config).train.pairs, 9);
  std::ofstream(out / "raw" / "de-en", std::ios::app)
      << "Das Brot ist frisch. :: The bread is fresh.\n";  // crc % 20 == 14: train
  const PreparedCorpus updated = prepare_corpus(config);
  EXPECT_FALSE(updated.reused);
  EXPECT_EQ(updated.train.pairs, 10);
}

TEST(PrepareCorpus, ReversedDirectionNamesTheSameFiles) {
  TempDir out;
  DataConfig config = ding_fixture_config(out);
  config.source_lang = "de";
  config.target_lang = "en";
  const PreparedCorpus prepared = prepare_corpus(config);
  EXPECT_EQ(prepared.train.source, out / "prepared" / "train.de");
  EXPECT_EQ(prepared.train.target, out / "prepared" / "train.en");
  EXPECT_EQ(read_prepared_split(prepared.valid).front(),
            (SentencePair{"Das Glas ist leer.", "The glass is empty."}));
}

TEST(PrepareCorpus, DefaultFolderIsInTheCache) {
  TempDir out;
  ScopedEnv cache("QKV_CACHE", (out / "cache").string());
  DataConfig config = ding_fixture_config(out);
  config.prepared_dir.clear();
  EXPECT_EQ(prepare_corpus(config).dir, out / "cache" / "corpora" / "ding-en-de");
}

TEST(PrepareCorpus, BadConfigsAreRejected) {
  TempDir out;
  DataConfig config = ding_fixture_config(out);
  config.corpus = "europarl";
  EXPECT_THAT(error_of<std::invalid_argument>(config), HasSubstr("unknown corpus 'europarl'"));
  config = ding_fixture_config(out);
  config.target_lang = "ru";
  EXPECT_THAT(error_of<std::invalid_argument>(config), HasSubstr("do not match corpus ding-en-de"));
  config = ding_fixture_config(out);
  config.target_lang = "../de";
  EXPECT_THAT(error_of<std::invalid_argument>(config), HasSubstr("not a language code"));
  config = DataConfig{};
  config.corpus = "files";
  config.train_source = "a.en";
  EXPECT_THAT(error_of<std::invalid_argument>(config), HasSubstr("data.train_target is required"));
}

TEST(PrepareCorpus, MissingDingDictionarySaysWhatToInstall) {
  TempDir out;
  DataConfig config = ding_fixture_config(out);
  config.raw_dir = out.path().string();  // a folder without de-en
  EXPECT_THAT(error_of<std::runtime_error>(config), HasSubstr("apt-get install trans-de-en"));
}

TEST(PrepareCorpus, FilesCorpusCopiesGivenSplitsAndCountsEmptyLines) {
  TempDir out;
  test::write_file(out / "train.src", "One.\n\nThree.\n");
  test::write_file(out / "train.tgt", "Eins.\nZwei.\nDrei.\n");
  DataConfig config;
  config.corpus = "files";
  config.source_lang = "en";
  config.target_lang = "de";
  config.train_source = (out / "train.src").string();
  config.train_target = (out / "train.tgt").string();
  config.valid_source = test::fixture("small.en").string();
  config.valid_target = test::fixture("small.de").string();
  config.prepared_dir = (out / "prepared").string();
  const PreparedCorpus prepared = prepare_corpus(config);
  EXPECT_EQ(prepared.train.pairs, 2);
  EXPECT_EQ(prepared.valid.pairs, 40);
  EXPECT_TRUE(prepared.test.source.empty());  // no test files given
  EXPECT_THAT(read_prepared_split(prepared.train),
              ElementsAre(SentencePair{"One.", "Eins."}, SentencePair{"Three.", "Drei."}));
  EXPECT_THAT(
      prepared.rule_counts,
      ::testing::Contains(std::pair<std::string, int64_t>{"train: empty line pairs skipped", 1}));
  EXPECT_TRUE(prepare_corpus(config).reused);
  EXPECT_TRUE(prepare_corpus(config).test.source.empty());
}

TEST(PrepareCorpus, FilesCorpusWithMisalignedFilesFails) {
  TempDir out;
  test::write_file(out / "a.en", "One.\nTwo.\n");
  test::write_file(out / "a.de", "Eins.\n");
  DataConfig config;
  config.corpus = "files";
  config.train_source = config.valid_source = (out / "a.en").string();
  config.train_target = config.valid_target = (out / "a.de").string();
  config.prepared_dir = (out / "prepared").string();
  EXPECT_THAT(error_of<std::runtime_error>(config), HasSubstr("has 2 lines but"));
}

TEST(PrepareCorpus, TatoebaIsSplitByTheEnglishHash) {
  TempDir out;
  std::filesystem::create_directories(out / "tatoeba");
  test::write_gzip(
      out / "tatoeba" / "en-ru.en.gz",
      "The night is long.\nThe glass is empty.\nThis soup is salty.\nThe night is long.\n");
  test::write_gzip(out / "tatoeba" / "en-ru.ru.gz",
                   "Ночь длинная.\nСтакан пуст.\nЭтот суп солёный.\nНочь долгая.\n");
  DataConfig config;
  config.corpus = "tatoeba-en-ru";
  config.target_lang = "ru";
  config.raw_dir = (out / "tatoeba").string();
  config.prepared_dir = (out / "prepared").string();
  const PreparedCorpus prepared = prepare_corpus(config);
  EXPECT_EQ(prepared.train.pairs, 1);
  EXPECT_EQ(prepared.valid.pairs, 1);
  EXPECT_EQ(prepared.test.pairs, 2);  // both translations of one English sentence
  EXPECT_EQ(prepared.test.target, out / "prepared" / "test.ru");
  EXPECT_EQ(test::read_file(out / "prepared" / "test.ru"), "Ночь длинная.\nНочь долгая.\n");
}

TEST(PrepareCorpus, Multi30kKeepsThePublishedSplits) {
  TempDir out;
  const auto raw = out / "multi30k";
  std::filesystem::create_directories(raw);
  test::write_gzip(raw / "train.en.gz", "A dog runs.\nTwo men talk.\n");
  test::write_gzip(raw / "train.de.gz", "Ein Hund rennt.\nZwei Männer reden.\n");
  test::write_file(raw / "val.en", "A cat sleeps.\n");
  test::write_file(raw / "val.de", "Eine Katze schläft.\n");
  test::write_file(raw / "test_2016_flickr.en", "A boy jumps.\n");
  test::write_file(raw / "test_2016_flickr.de", "Ein Junge springt.\n");
  DataConfig config;
  config.corpus = "multi30k-en-de";
  config.prepared_dir = (out / "prepared").string();
  {
    ScopedEnv data_dir("QKV_DATA_DIR", out.path().string());  // found as $QKV_DATA_DIR/multi30k
    const PreparedCorpus prepared = prepare_corpus(config);
    EXPECT_EQ(prepared.train.pairs, 2);
    EXPECT_EQ(prepared.valid.pairs, 1);
    EXPECT_EQ(prepared.test.pairs, 1);
    EXPECT_EQ(test::read_file(out / "prepared" / "test.de"), "Ein Junge springt.\n");
  }
  std::filesystem::remove(raw / "val.de");
  config.raw_dir = raw.string();
  EXPECT_THAT(error_of<std::runtime_error>(config), HasSubstr("val.de"));
}

// Without the raw files, the message names the download script, which exists. Only where no
// searched folder holds them (not beside a ../shared/data that has them).
TEST(PrepareCorpus, MissingDownloadableCorpusNamesItsDownloadScript) {
  TempDir out;
  ScopedEnv data_dir("QKV_DATA_DIR", (out / "data").string());
  ScopedEnv cache("QKV_CACHE", (out / "cache").string());
  for (const auto& [corpus, script] : {std::pair{"multi30k-en-de", "get_multi30k.sh"},
                                       std::pair{"tatoeba-en-ru", "get_tatoeba.sh"}}) {
    DataConfig config;
    config.corpus = corpus;
    config.target_lang = corpus_languages(corpus).second;
    config.prepared_dir = (out / "prepared").string();
    std::string message;
    try {
      prepare_corpus(config);
      GTEST_SKIP() << corpus << " was found in one of the searched folders";
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    const auto path = std::filesystem::path(QKV_SOURCE_DIR) / "scripts" / script;
    EXPECT_THAT(message, HasSubstr("run " + path.string() + " (it downloads into the first"));
    EXPECT_THAT(message, HasSubstr("looked for"));
    EXPECT_TRUE(std::filesystem::is_regular_file(path)) << path;
  }
}

// The Ding fixture config reading a copy of the dictionary in out/ding, which tests may change.
DataConfig ding_copy_config(const TempDir& out) {
  DataConfig config = ding_fixture_config(out);
  std::filesystem::copy(config.raw_dir, out / "ding");
  config.raw_dir = (out / "ding").string();
  return config;
}

// A trained run's corpus whose raw folder has gone (trained with QKV_DATA_DIR or data.raw_dir,
// used without): its prepared splits are used as they are.
TEST(FindOrPrepareCorpus, UsesTheCompletePreparationWhenTheRawFilesAreGone) {
  TempDir out;
  const DataConfig config = ding_copy_config(out);
  const PreparedCorpus trained = prepare_corpus(config);
  std::filesystem::remove_all(config.raw_dir);
  EXPECT_THAT(error_of<std::runtime_error>(config), HasSubstr("de-en"));

  const PreparedCorpus found = find_or_prepare_corpus(config);
  EXPECT_TRUE(found.reused);
  EXPECT_EQ(found.test.source, out / "prepared" / "test.en");
  EXPECT_EQ(found.test.pairs, trained.test.pairs);
  EXPECT_EQ(found.train.pairs, trained.train.pairs);
  EXPECT_EQ(read_prepared_split(found.test), read_prepared_split(trained.test));
}

TEST(FindOrPrepareCorpus, KeepsTheRunsSplitsWhenTheRawFilesChanged) {
  TempDir out;
  const DataConfig config = ding_copy_config(out);
  prepare_corpus(config);
  const std::string test_before = test::read_file(out / "prepared" / "test.en");
  test::write_file(out / "ding" / "de-en", "");  // another dictionary now: nothing to read

  EXPECT_TRUE(find_or_prepare_corpus(config).reused);
  EXPECT_EQ(test::read_file(out / "prepared" / "test.en"), test_before);
}

TEST(FindOrPrepareCorpus, PreparesWhenNothingOrAnotherCorpusWasPreparedThere) {
  TempDir out;
  DataConfig files;
  files.corpus = "files";
  files.train_source = files.valid_source = test::fixture("small.en").string();
  files.train_target = files.valid_target = test::fixture("small.de").string();
  files.prepared_dir = (out / "prepared").string();
  const PreparedCorpus first = find_or_prepare_corpus(files);
  EXPECT_FALSE(first.reused);
  EXPECT_TRUE(first.test.source.empty());

  const PreparedCorpus ding = find_or_prepare_corpus(ding_fixture_config(out));  // same folder
  EXPECT_FALSE(ding.reused);
  EXPECT_EQ(ding.test.pairs, 2);
  EXPECT_TRUE(find_or_prepare_corpus(ding_fixture_config(out)).reused);

  DataConfig unknown = files;
  unknown.corpus = "nope";
  EXPECT_THROW(find_or_prepare_corpus(unknown), std::invalid_argument);
}

TEST(CorpusLanguages, KnowsTheBuiltInCorpora) {
  EXPECT_EQ(corpus_languages("ding-en-de"), (std::pair<std::string, std::string>{"en", "de"}));
  EXPECT_EQ(corpus_languages("tatoeba-en-ru"), (std::pair<std::string, std::string>{"en", "ru"}));
  EXPECT_THROW(corpus_languages("files"), std::invalid_argument);
  EXPECT_THAT(corpus_names(), ::testing::Contains("multi30k-en-de"));
}

}  // namespace
}  // namespace qkv
