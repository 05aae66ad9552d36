// Tests of the experiment config loader: defaults, a full file, typo protection, type and
// range errors with file:line:key, --set overrides through the same checks, and round trip.
#include "train/experiment_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "model/search.h"
#include "train/decode_search.h"
#include "train/enum_names.h"

namespace qkv {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

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
  EXPECT_EQ(c.model.norm, NormPosition::kPre);
  EXPECT_TRUE(c.model.tie_embeddings);
  EXPECT_EQ(c.data.corpus, "ding-en-de");
  EXPECT_EQ(c.data.vocab_size, 8000);
  EXPECT_EQ(c.train.schedule, ScheduleKind::kNoam);
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
  EXPECT_EQ(c.model.norm, NormPosition::kPost);
  EXPECT_EQ(c.model.positions, PositionKind::kLearned);
  EXPECT_FALSE(c.model.tie_embeddings);
  EXPECT_EQ(c.data.corpus, "files");
  EXPECT_EQ(c.data.target_lang, "ru");
  EXPECT_EQ(c.data.train_source, "corpora/train.en.gz");
  EXPECT_EQ(c.data.tokenizer, TokenizerType::kBpe);
  EXPECT_DOUBLE_EQ(c.data.character_coverage, 0.9995);
  EXPECT_EQ(c.train.accumulate, 2);
  EXPECT_DOUBLE_EQ(c.train.learning_rate, 5.0e-4);
  EXPECT_EQ(c.train.best_metric, BestMetric::kChrf);
  ASSERT_EQ(c.train.probe_sentences.size(), 2u);
  EXPECT_EQ(c.train.probe_sentences[1], "Where is the station?");
  EXPECT_EQ(c.train.schedule, ScheduleKind::kLinear);
  EXPECT_DOUBLE_EQ(c.decode.length_penalty_alpha, 1.0);
  EXPECT_EQ(c.decode.length_penalty_type, LengthPenaltyType::kAverage);
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
  EXPECT_EQ(error_of("model:\n  d_model: -8\n"), "test.yaml:2: model.d_model: must be > 0, got -8");
  EXPECT_THAT(error_of("model:\n  norm: middle\n"),
              HasSubstr("test.yaml:2: model.norm: 'middle' is not one of: pre, post"));
  EXPECT_THAT(
      error_of("model:\n  positions: rotary\n"),
      HasSubstr("test.yaml:2: model.positions: 'rotary' is not one of: sinusoidal, learned"));
  EXPECT_THAT(error_of("train:\n  max_steps: 100\n  warmup_steps: 400\n"),
              HasSubstr("test.yaml:3: train.warmup_steps: 400 must be below train.max_steps 100"));
  EXPECT_THAT(error_of("data:\n  corpus: files\n  train_source: a.en\n"),
              HasSubstr("data.train_target: is required when data.corpus is files"));
  EXPECT_THAT(error_of("decode:\n  beam_size: 0\n"), HasSubstr("test.yaml:2: decode.beam_size"));
  EXPECT_THAT(error_of("train:\n  precision: int8\n"),
              HasSubstr("test.yaml:2: train.precision: int8 is for decoding"));
}

TEST(ExperimentConfig, SyntaxErrorAndEmptyFile) {
  EXPECT_THAT(error_of("model:\n  d_model: [256\n"), HasSubstr("YAML syntax error"));
  EXPECT_THAT(error_of(""), HasSubstr("test.yaml: the config is empty"));
  EXPECT_THAT(error_of("model:\n  d_model: 1\n  d_model: 2\n"),
              HasSubstr("test.yaml:3: model.d_model: duplicate key"));
}

TEST(ExperimentConfig, InvalidUtf8NamesItsLine) {
  EXPECT_EQ(error_of("model:\n  norm: pre\ndata:\n  train_source: \"caf\xe9.en\"\n"),
            "test.yaml:4: not valid UTF-8 (save the config as UTF-8)");
  EXPECT_EQ(error_of("\xff"), "test.yaml:1: not valid UTF-8 (save the config as UTF-8)");
  // A multi-byte character cut by a line end is on the line where it starts.
  EXPECT_EQ(error_of("model:\n  norm: \xc3\n"),
            "test.yaml:2: not valid UTF-8 (save the config as UTF-8)");
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
  EXPECT_EQ(c.model.norm, NormPosition::kPost);
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

TEST(ExperimentConfig, UnknownEnumValueNamesFileLineAndTheValidNames) {
  EXPECT_EQ(error_of("train:\n  schedule: cosine\n"),
            "test.yaml:2: train.schedule: 'cosine' is not one of: noam, constant, linear");
  EXPECT_EQ(error_of("train:\n  seed: 3\n  best_metric: ter\n"),
            "test.yaml:3: train.best_metric: 'ter' is not one of: bleu, chrf, loss");
  EXPECT_EQ(error_of("train:\n  device: tpu\n"),
            "test.yaml:2: train.device: 'tpu' is not one of: auto, cpu, cuda or cuda:N");
  EXPECT_EQ(error_of("train:\n  precision: fp16\n"),
            "test.yaml:2: train.precision: 'fp16' is not one of: auto, fp32, bf16, int8");
  EXPECT_EQ(error_of("decode:\n  length_penalty_type: wu\n"),
            "test.yaml:2: decode.length_penalty_type: 'wu' is not one of: gnmt, average");
  EXPECT_EQ(error_of("data:\n  tokenizer: char\n"),
            "test.yaml:2: data.tokenizer: 'char' is not one of: unigram, bpe");
  // Names are case-sensitive, as before, and an override is checked the same way.
  EXPECT_EQ(error_of("{}", {"train.schedule=Noam"}),
            "--set train.schedule=Noam: train.schedule: 'Noam' is not one of: noam, constant, "
            "linear");
}

TEST(ExperimentConfig, EveryEnumNameReadsBackAsItsValue) {
  for (const auto& [value, name] : enum_names(ScheduleKind{})) {
    const auto c =
        parse_experiment_config(std::string("train:\n  schedule: ") + name + "\n", "test.yaml");
    EXPECT_EQ(c.train.schedule, value) << name;
    EXPECT_STREQ(enum_name(value), name);
  }
  for (const auto& [value, name] : enum_names(LengthPenaltyType{})) {
    const auto c = parse_experiment_config(
        std::string("decode:\n  length_penalty_type: ") + name + "\n", "test.yaml");
    EXPECT_EQ(c.decode.length_penalty_type, value) << name;
  }
  EXPECT_EQ(enum_name_list<BestMetric>(), "bleu, chrf, loss");
  EXPECT_EQ(enum_from_name<Precision>("bf16"), Precision::kBf16);
  EXPECT_FALSE(enum_from_name<TokenizerType>("Unigram").has_value());
}

TEST(ExperimentConfig, ModelValidatorErrorsGetFileAndLine) {
  // validate_model_config's even-d_model rule for sinusoidal positions, caught before any data
  // preparation or tokenizer training (model/ words the rule; the key and its line are ours).
  EXPECT_THAT(error_of("model:\n  d_model: 129\n  num_heads: 3\n"),
              AllOf(StartsWith("test.yaml:2: model.d_model: "),
                    HasSubstr("129"),
                    HasSubstr("even"),
                    HasSubstr("sinusoidal")));
  EXPECT_THAT(error_of("model:\n  num_heads: 3\n", {"model.d_model=129"}),
              AllOf(StartsWith("--set model.d_model=129: model.d_model: "), HasSubstr("even")));
  const auto learned = parse_experiment_config(
      "model:\n  d_model: 129\n  num_heads: 3\n  positions: learned\n", "test.yaml");
  EXPECT_EQ(learned.model.d_model, 129);
  EXPECT_EQ(error_of("model:\n  decoder_layers: 0\n"),
            "test.yaml:2: model.decoder_layers: must be > 0, got 0");
}

TEST(ExperimentConfig, SearchValidatorErrorsNameTheDecodeKey) {
  EXPECT_EQ(error_of("decode:\n  beam_size: 0\n"),
            "test.yaml:2: decode.beam_size: must be >= 1, got 0");
  EXPECT_THAT(error_of("decode:\n  beam_size: 2\n  length_penalty: -0.5\n"),
              HasSubstr("test.yaml:3: decode.length_penalty: must be >= 0"));
  EXPECT_THAT(error_of("decode:\n  max_length_a: -1.5\n"),
              HasSubstr("test.yaml:2: decode.max_length_a: must be >= 0"));
  EXPECT_EQ(error_of("decode:\n  max_length_a: 0\n  max_length_b: 0\n"),
            "test.yaml:3: decode.max_length_b: decode.max_length_a and decode.max_length_b "
            "cannot both be 0");
}

TEST(ExperimentConfig, MaxLengthAIsARatio) {
  const auto c = parse_experiment_config("decode:\n  max_length_a: 1.5\n", "test.yaml");
  EXPECT_DOUBLE_EQ(c.decode.max_length_a, 1.5);
  const SearchOptions search = search_options_for(c.decode);
  EXPECT_DOUBLE_EQ(search.max_length_ratio, 1.5);
  // floor(1.5 * 7 + 10) = 20 (rounded down), below the model's and the search's caps.
  EXPECT_EQ(max_output_length(/*source_length=*/7, /*max_positions=*/512, search), 20);
  EXPECT_EQ(max_output_length(/*source_length=*/8, /*max_positions=*/512, search), 22);
  // The shipped value 2 gives exactly the old integer limit 2 * S + 10.
  const auto shipped = parse_experiment_config("decode:\n  max_length_a: 2\n", "test.yaml");
  for (int64_t source : {1, 7, 40, 100}) {
    EXPECT_EQ(max_output_length(source, 512, search_options_for(shipped.decode)),
              std::min<int64_t>(2 * source + 10, 256))
        << source;
  }
}

TEST(ExperimentConfig, DecodeSectionMapsOntoSearchOptions) {
  DecodeConfig decode;
  decode.beam_size = 5;
  decode.length_penalty_alpha = 0.8;
  decode.length_penalty_type = LengthPenaltyType::kAverage;
  decode.max_length_b = 3;
  const SearchOptions search = search_options_for(decode);
  EXPECT_EQ(search.beam_size, 5);
  EXPECT_EQ(search.n_best, 1);
  EXPECT_DOUBLE_EQ(search.length_penalty_alpha, 0.8);
  EXPECT_EQ(search.length_penalty_type, LengthPenalty::kAverage);
  EXPECT_EQ(search.max_length_offset, 3);
  decode.length_penalty_type = LengthPenaltyType::kGnmt;
  EXPECT_EQ(search_options_for(decode).length_penalty_type, LengthPenalty::kGnmt);
}

// A config naming cuda stays valid everywhere (a run trained on a GPU must still load for
// translation on a CPU): it is resolved where it is used (model/device.h, tested there). A
// spelling that is no device is an error with the file, line and the valid spellings.
TEST(ExperimentConfig, DeviceIsReadAndWrittenAsSpelled) {
  const auto config = parse_experiment_config("train:\n  device: cuda:1\n", "test.yaml");
  EXPECT_EQ(config.train.device, (DeviceChoice{DeviceKind::kCuda, 1}));
  EXPECT_THAT(to_yaml(config), HasSubstr("device: \"cuda:1\""));
  EXPECT_EQ(parse_experiment_config(to_yaml(config), "again.yaml").train.device,
            config.train.device);
  EXPECT_THAT(error_of("train:\n  device: gpu\n"),
              HasSubstr("train.device: 'gpu' is not one of: auto, cpu, cuda or cuda:N"));
}

TEST(ExperimentConfig, ResolvedYamlSpellsEnumsAsBefore) {
  // `qkv config` output for the fixture, pinned: enums are written as their quoted YAML names,
  // exactly as when they were strings; max_length_a is a number with a decimal point.
  const ExperimentConfig c = load_experiment_config(QKV_FIXTURES_DIR "/configs/full.yaml");
  std::ifstream golden(QKV_FIXTURES_DIR "/configs/full.resolved.yaml", std::ios::binary);
  ASSERT_TRUE(golden) << "missing fixture full.resolved.yaml";
  std::ostringstream expected;
  expected << golden.rdbuf();
  EXPECT_EQ(to_yaml(c), expected.str());
  const ExperimentConfig defaults = parse_experiment_config("{}", "defaults");
  EXPECT_TRUE(parse_experiment_config(to_yaml(defaults, true), "again.yaml") == defaults);
}

}  // namespace
}  // namespace qkv
