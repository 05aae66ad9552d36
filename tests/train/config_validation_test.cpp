// train/config_validation, called directly on structs: each rule's error names the key at the
// origin recorded for it ("file:line", "--set ..."), or the file when nothing recorded it;
// model/'s validators are reported under the config's key names.
#include "train/config_validation.h"

#include <gtest/gtest.h>

#include <string>

namespace qkv {
namespace {

// The ConfigError text of validating `config`, or "" when it is valid.
std::string error_of(const ExperimentConfig& config, const ConfigOrigins& origins) {
  try {
    validate_experiment_config(config, origins);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigValidation, TheDefaultsAreValid) {
  EXPECT_EQ(error_of(ExperimentConfig{}, ConfigOrigins("x.yaml")), "");
}

TEST(ConfigValidation, AnErrorIsReportedAtTheOriginOfItsKey) {
  ConfigOrigins origins("x.yaml");
  origins.set("train.keep_last", "x.yaml:7");
  ExperimentConfig config;
  config.train.keep_last = 0;
  EXPECT_EQ(error_of(config, origins), "x.yaml:7: train.keep_last: must be at least 1");
  origins.set("train.keep_last", "--set train.keep_last=0");
  EXPECT_EQ(error_of(config, origins),
            "--set train.keep_last=0: train.keep_last: must be at least 1");
  EXPECT_EQ(error_of(config, ConfigOrigins("y.yaml")),
            "y.yaml: train.keep_last: must be at least 1");  // a default: the file
}

TEST(ConfigValidation, ModelRulesComeFromTheModelsOwnValidator) {
  ConfigOrigins origins("x.yaml");
  origins.set("model.d_model", "x.yaml:2");
  ExperimentConfig config;
  config.model.d_model = 255;
  config.model.num_heads = 5;
  EXPECT_EQ(error_of(config, origins),
            "x.yaml:2: model.d_model: 255 must be even for sinusoidal positions");
  config.model.positions = PositionKind::kLearned;  // learned positions take any width
  EXPECT_EQ(error_of(config, origins), "");
}

TEST(ConfigValidation, SearchRulesAreReportedUnderTheDecodeKeys) {
  ConfigOrigins origins("x.yaml");
  origins.set("decode.beam_size", "x.yaml:9");
  ExperimentConfig config;
  config.decode.beam_size = 0;
  const std::string error = error_of(config, origins);
  EXPECT_EQ(error.rfind("x.yaml:9: decode.beam_size: ", 0), 0u) << error;
}

TEST(ConfigValidation, CrossFieldRules) {
  ExperimentConfig config;
  config.train.max_steps = 100;
  config.train.warmup_steps = 400;
  EXPECT_EQ(error_of(config, ConfigOrigins("x.yaml")),
            "x.yaml: train.warmup_steps: 400 must be below train.max_steps 100");
  config = ExperimentConfig{};
  config.data.max_length = config.model.max_positions;
  EXPECT_NE(error_of(config, ConfigOrigins("x.yaml")).find("exceeds model.max_positions"),
            std::string::npos);
  config = ExperimentConfig{};
  config.decode.max_length_a = 0;
  config.decode.max_length_b = 0;
  EXPECT_EQ(error_of(config, ConfigOrigins("x.yaml")),
            "x.yaml: decode.max_length_b: decode.max_length_a and decode.max_length_b cannot "
            "both be 0");
}

}  // namespace
}  // namespace qkv
