// Tests of the experiment config loader: defaults, a full file, typo protection, type and
// range errors with file:line:key, --set overrides through the same checks, and round trip.
#include "train/experiment_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace qkv {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// The message of the ConfigError thrown by parsing `yaml` (fails the test if none is thrown).
std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    parse_experiment_config(yaml, "test.yaml", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError for:\n" << yaml;
  return "";
}

TEST(ExperimentConfig, EmptyMappingGivesDocumentedDefaults) {
  const ExperimentConfig c = parse_experiment_config("{}", "test.yaml");
  EXPECT_EQ(c.model.d_model, 256);
  EXPECT_EQ(c.model.num_heads, 4);
  EXPECT_EQ(c.model.norm, "pre");
  EXPECT_TRUE(c.model.tie_embeddings);
  EXPECT_EQ(c.data.corpus, "ding-en-de");
  EXPECT_EQ(c.data.vocab_size, 8000);
  EXPECT_EQ(c.train.schedule, "noam");
  EXPECT_DOUBLE_EQ(c.train.label_smoothing, 0.1);
  EXPECT_DOUBLE_EQ(c.train.adam_beta2, 0.98);
  EXPECT_EQ(c.decode.beam_size, 4);
}

TEST(ExperimentConfig, FullFileSetsEveryKeyItNames) {
  const ExperimentConfig c = load_experiment_config(QKV_FIXTURES_DIR "/configs/full.yaml");
  EXPECT_EQ(c.model.d_model, 128);
  EXPECT_EQ(c.model.num_heads, 8);
  EXPECT_EQ(c.model.decoder_layers, 1);
  EXPECT_DOUBLE_EQ(c.model.dropout, 0.25);
  EXPECT_EQ(c.model.norm, "post");
  EXPECT_EQ(c.model.positions, "learned");
  EXPECT_FALSE(c.model.tie_embeddings);
  EXPECT_EQ(c.data.corpus, "files");
  EXPECT_EQ(c.data.target_lang, "ru");
  EXPECT_EQ(c.data.train_source, "corpora/train.en.gz");
  EXPECT_EQ(c.data.tokenizer, "bpe");
  EXPECT_DOUBLE_EQ(c.data.character_coverage, 0.9995);
  EXPECT_EQ(c.train.accumulate, 2);
  EXPECT_DOUBLE_EQ(c.train.learning_rate, 5.0e-4);
  EXPECT_EQ(c.train.best_metric, "chrf");
  ASSERT_EQ(c.train.probe_sentences.size(), 2u);
  EXPECT_EQ(c.train.probe_sentences[1], "Where is the station?");
  EXPECT_EQ(c.decode.length_penalty_type, "average");
  // Keys the file does not name keep their defaults.
  EXPECT_EQ(c.train.keep_last, 3);
}

TEST(ExperimentConfig, UnknownKeyIsAnErrorListingTheValidKeys) {
  const std::string message = error_of("model:\n  d_model: 256\n  num_head: 4\n");
  EXPECT_THAT(message, HasSubstr("test.yaml:3: model.num_head: unknown key"));
  EXPECT_THAT(message,
              AllOf(HasSubstr("num_heads"), HasSubstr("d_ff"), HasSubstr("max_positions")));
}

TEST(ExperimentConfig, UnknownSectionIsAnError) {
  EXPECT_THAT(error_of("modle:\n  d_model: 256\n"),
              AllOf(HasSubstr("test.yaml:1: modle: unknown section"), HasSubstr("model, data")));
}

TEST(ExperimentConfig, WrongTypeNamesFileLineAndKey) {
  EXPECT_EQ(error_of("train:\n  seed: 1\n  max_steps: lots\n"),
            "test.yaml:3: train.max_steps: expected an integer, got 'lots'");
  EXPECT_EQ(error_of("model:\n  tie_embeddings: maybe\n"),
            "test.yaml:2: model.tie_embeddings: expected true or false, got 'maybe'");
  EXPECT_EQ(error_of("model:\n  dropout: [0.1]\n"),
            "test.yaml:2: model.dropout: expected a number, got a list");
  EXPECT_EQ(error_of("model:\n  d_model: 2.5\n"),
            "test.yaml:2: model.d_model: expected an integer, got '2.5'");
}

TEST(ExperimentConfig, CrossFieldErrorNamesLineOfTheKey) {
  EXPECT_EQ(error_of("model:\n  d_model: 256\n  num_heads: 6\n"),
            "test.yaml:3: model.num_heads: 6 does not divide model.d_model 256");
}

TEST(ExperimentConfig, RangeAndChoiceErrors) {
  EXPECT_THAT(error_of("model:\n  d_model: -8\n"),
              HasSubstr("test.yaml:2: model.d_model: must be positive"));
  EXPECT_THAT(error_of("model:\n  norm: middle\n"),
              HasSubstr("test.yaml:2: model.norm: 'middle' is not one of: pre, post"));
  EXPECT_THAT(error_of("train:\n  max_steps: 100\n  warmup_steps: 400\n"),
              HasSubstr("test.yaml:3: train.warmup_steps: 400 must be below train.max_steps 100"));
  EXPECT_THAT(error_of("data:\n  corpus: files\n  train_source: a.en\n"),
              HasSubstr("data.train_target: is required when data.corpus is files"));
  EXPECT_THAT(error_of("decode:\n  beam_size: 0\n"), HasSubstr("test.yaml:2: decode.beam_size"));
}

TEST(ExperimentConfig, SyntaxErrorAndEmptyFile) {
  EXPECT_THAT(error_of("model:\n  d_model: [256\n"), HasSubstr("YAML syntax error"));
  EXPECT_THAT(error_of(""), HasSubstr("test.yaml: the config is empty"));
  EXPECT_THAT(error_of("model:\n  d_model: 1\n  d_model: 2\n"),
              HasSubstr("test.yaml:3: model.d_model: duplicate key"));
}

TEST(ExperimentConfig, MissingFileIsNamed) {
  try {
    load_experiment_config("/nonexistent/qkv.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/qkv.yaml: cannot read"));
  }
}

TEST(ExperimentConfig, OverridesApplyAndGoThroughValidation) {
  const ExperimentConfig c =
      parse_experiment_config("train:\n  max_steps: 5000\n",
                              "test.yaml",
                              {"train.max_steps=100", "model.norm=post", "train.warmup_steps=10"});
  EXPECT_EQ(c.train.max_steps, 100);
  EXPECT_EQ(c.model.norm, "post");
  EXPECT_EQ(error_of("{}", {"model.num_heads=6"}),
            "--set model.num_heads=6: model.num_heads: 6 does not divide model.d_model 256");
  EXPECT_THAT(error_of("{}", {"train.max_step=100"}),
              HasSubstr("--set train.max_step=100: train.max_step: unknown key"));
  EXPECT_THAT(error_of("{}", {"train.seed=abc"}),
              HasSubstr("--set train.seed=abc: train.seed: expected an integer"));
  EXPECT_THAT(error_of("{}", {"max_steps=100"}), HasSubstr("expected SECTION.KEY=VALUE"));
}

TEST(ExperimentConfig, ResolvedConfigRoundTrips) {
  const ExperimentConfig original = load_experiment_config(QKV_FIXTURES_DIR "/configs/full.yaml");
  for (bool with_docs : {false, true}) {
    const std::string yaml = to_yaml(original, with_docs);
    const ExperimentConfig reread = parse_experiment_config(yaml, "resolved.yaml");
    EXPECT_TRUE(reread == original) << yaml;
    EXPECT_EQ(to_yaml(reread, with_docs), yaml);
  }
  ExperimentConfig changed = original;
  changed.data.character_coverage = 0.9996;
  EXPECT_FALSE(changed == original);
}

}  // namespace
}  // namespace qkv
