// ExperimentConfig: one experiment YAML (`model:`, `data:`, `train:`, `decode:`) parsed once
// into typed structs, validated in one place. The only translation unit that sees yaml-cpp is
// experiment_config.cpp.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/config.h"
#include "model/config.h"
#include "train/config.h"

namespace qkv {

/// A bad config: the message names the file, line and key path, e.g.
/// "configs/x.yaml:12: model.num_heads: 6 does not divide model.d_model 256".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ExperimentConfig {
  ModelConfig model;
  DataConfig data;
  TrainConfig train;
  DecodeConfig decode;
};

/// Parses `yaml_text` (named `source` in messages), applies `overrides` ("train.max_steps=100",
/// each value parsed as YAML), and validates. Missing keys keep their defaults. Throws ConfigError.
ExperimentConfig parse_experiment_config(const std::string& yaml_text,
                                         const std::string& source,
                                         const std::vector<std::string>& overrides = {});

/// Reads and parses a config file; throws ConfigError (also when the file cannot be read).
ExperimentConfig load_experiment_config(const std::filesystem::path& path,
                                        const std::vector<std::string>& overrides = {});

/// The resolved config as YAML, every key present. With `with_docs`, each key carries its
/// documentation as a trailing comment. Parsing the result gives back an equal config.
std::string to_yaml(const ExperimentConfig& config, bool with_docs = false);

/// Shortest decimal text that reads back as exactly the same double, always with a decimal
/// point or exponent ("2.0", "0.0001"), as configs print numbers.
std::string format_double(double value);

/// Field-by-field equality (all sections).
bool operator==(const ExperimentConfig& a, const ExperimentConfig& b);
inline bool operator!=(const ExperimentConfig& a, const ExperimentConfig& b) { return !(a == b); }

}  // namespace qkv
