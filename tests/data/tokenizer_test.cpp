// Trains SentencePiece in the same process as LibTorch on purpose: Debian's shared
// libsentencepiece bundles another protobuf and crashes such a process, so these tests guard
// the static build that qkv links.
#include "data/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/dataset.h"
#include "data/parallel_corpus.h"
#include "data/special_tokens.h"
#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

using test::TempDir;
using ::testing::HasSubstr;

std::vector<std::string> fixture_sentences() {
  return joint_sentences(
      read_parallel_corpus(test::fixture("small.en"), test::fixture("small.de")).pairs);
}

TokenizerOptions small_options(const std::string& model_type = "unigram") {
  TokenizerOptions options;
  options.model_type = model_type;
  options.vocab_size = 120;
  return options;
}

class TokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Touch LibTorch first so both libraries (and their protobuf use) live in this process.
    ASSERT_EQ(torch::ones({2}).sum().item<float>(), 2.0F);
  }
  TempDir dir_;
};

TEST_F(TokenizerTest, SpecialIdsAreFixed) {
  const Tokenizer tokenizer =
      Tokenizer::train(fixture_sentences(), small_options(), dir_ / "spm.model");
  EXPECT_EQ(tokenizer.vocab_size(), 120);
  EXPECT_EQ(tokenizer.id_to_piece(kPadId), "<pad>");
  EXPECT_EQ(tokenizer.id_to_piece(kUnkId), "<unk>");
  EXPECT_EQ(tokenizer.id_to_piece(kBosId), "<s>");
  EXPECT_EQ(tokenizer.id_to_piece(kEosId), "</s>");
  for (const int64_t id : tokenizer.encode("The dog is asleep.")) {
    EXPECT_GT(id, kEosId) << "encode must not emit special ids";
  }
  EXPECT_THROW(tokenizer.id_to_piece(120), std::out_of_range);
  EXPECT_THROW(tokenizer.id_to_piece(-1), std::out_of_range);
}

TEST_F(TokenizerTest, EncodeThenDecodeGivesTheTextBack) {
  const Tokenizer tokenizer =
      Tokenizer::train(fixture_sentences(), small_options(), dir_ / "spm.model");
  for (const std::string text :
       {"Das Haus ist groß.", "Where are my keys?", "Die Kinder spielen draußen.", "Brüder"}) {
    const std::vector<int64_t> ids = tokenizer.encode(text);
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(tokenizer.decode(ids), text);
    // The ids go into LibTorch tensors unchanged.
    const auto tensor = torch::tensor(ids, torch::kInt64);  // [L]
    EXPECT_EQ(tensor.size(0), static_cast<int64_t>(ids.size()));
  }
}

TEST_F(TokenizerTest, DecodeSkipsPadBosEosAndChecksRange) {
  const Tokenizer tokenizer =
      Tokenizer::train(fixture_sentences(), small_options(), dir_ / "spm.model");
  std::vector<int64_t> ids = {kBosId};
  for (const int64_t id : tokenizer.encode("We need more time.")) ids.push_back(id);
  ids.insert(ids.end(), {kEosId, kPadId, kPadId});
  EXPECT_EQ(tokenizer.decode(ids), "We need more time.");
  EXPECT_THROW(tokenizer.decode({5, 120}), std::out_of_range);
}

TEST_F(TokenizerTest, UnknownCharactersBecomeUnk) {
  const Tokenizer tokenizer =
      Tokenizer::train(fixture_sentences(), small_options(), dir_ / "spm.model");
  const std::vector<int64_t> ids = tokenizer.encode("Ω");
  EXPECT_THAT(ids, ::testing::Contains(kUnkId));
}

TEST_F(TokenizerTest, PiecesMatchIdsAndSpellTheText) {
  const Tokenizer tokenizer =
      Tokenizer::train(fixture_sentences(), small_options(), dir_ / "spm.model");
  const std::string text = "The water is cold.";
  const auto pieces = tokenizer.pieces(text);
  const auto ids = tokenizer.encode(text);
  ASSERT_EQ(pieces.size(), ids.size());
  std::string spelled;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_EQ(pieces[i], tokenizer.id_to_piece(ids[i]));
    spelled += pieces[i];
  }
  EXPECT_EQ(spelled, "\u2581The\u2581water\u2581is\u2581cold.");  // ▁ marks a word start
}

TEST_F(TokenizerTest, TrainingIsDeterministicAndLoadGivesTheSameModel) {
  const auto sentences = fixture_sentences();
  const Tokenizer first = Tokenizer::train(sentences, small_options(), dir_ / "a.model");
  Tokenizer::train(sentences, small_options(), dir_ / "b.model");
  EXPECT_EQ(test::read_file(dir_ / "a.model"), test::read_file(dir_ / "b.model"));
  const Tokenizer loaded = Tokenizer::load(dir_ / "a.model");
  EXPECT_EQ(loaded.vocab_size(), first.vocab_size());
  EXPECT_EQ(loaded.encode("Tom is my friend."), first.encode("Tom is my friend."));
}

TEST_F(TokenizerTest, BpeModelsWorkToo) {
  const Tokenizer tokenizer =
      Tokenizer::train(fixture_sentences(), small_options("bpe"), dir_ / "bpe.model");
  EXPECT_EQ(tokenizer.vocab_size(), 120);
  EXPECT_EQ(tokenizer.id_to_piece(kEosId), "</s>");
  EXPECT_EQ(tokenizer.decode(tokenizer.encode("The sun is shining.")), "The sun is shining.");
}

TEST_F(TokenizerTest, TooLargeVocabularyIsOneClearError) {
  TokenizerOptions options = small_options();
  options.vocab_size = 5000;
  try {
    Tokenizer::train(fixture_sentences(), options, dir_ / "spm.model");
    FAIL() << "no error for a vocabulary larger than the text allows";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_THAT(message, HasSubstr("SentencePiece training failed"));
    EXPECT_THAT(message, HasSubstr("Vocabulary size too high (5000)"));
    EXPECT_THAT(message, ::testing::Not(HasSubstr("trainer_interface.cc")));
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "spm.model"));
}

TEST_F(TokenizerTest, BadOptionsAreRejectedBeforeTraining) {
  TokenizerOptions options = small_options("word");
  EXPECT_THROW(Tokenizer::train(fixture_sentences(), options, dir_ / "m"), std::invalid_argument);
  options = small_options();
  options.vocab_size = 4;
  EXPECT_THROW(Tokenizer::train(fixture_sentences(), options, dir_ / "m"), std::invalid_argument);
  options = small_options();
  options.character_coverage = 0.5;
  EXPECT_THROW(Tokenizer::train(fixture_sentences(), options, dir_ / "m"), std::invalid_argument);
  EXPECT_THROW(Tokenizer::train({}, small_options(), dir_ / "m"), std::invalid_argument);
}

TEST_F(TokenizerTest, LoadingABadFileNamesIt) {
  try {
    Tokenizer::load(dir_ / "missing.model");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing.model"));
  }
  test::write_file(dir_ / "junk.model", "this is not a protobuf");
  try {
    Tokenizer::load(dir_ / "junk.model");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("junk.model"));
  }
}

}  // namespace
}  // namespace qkv
