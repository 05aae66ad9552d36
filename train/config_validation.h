// Validation of a parsed experiment config: range and cross-field rules, one step per
// section, plus model/'s own validators, each error at the line of the key it names. Not here:
// reading YAML into the structs and writing them back (experiment_config.cpp).
#pragma once

#include <map>
#include <string>

#include "train/experiment_config.h"

namespace qkv {

/// Where each key of a config came from: "file:line" for keys in the file, "--set k=v" for
/// overrides. Errors name the origin of the key they are about.
class ConfigOrigins {
 public:
  explicit ConfigOrigins(std::string source) : source_(std::move(source)) {}
  void set(const std::string& path, std::string origin) { origins_[path] = std::move(origin); }
  /// "file:line" of `path` if the file set it, the override if one did, else the file name.
  std::string of(const std::string& path) const {
    auto it = origins_.find(path);
    return it == origins_.end() ? source_ : it->second;
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::map<std::string, std::string> origins_;
};

/// Throws ConfigError("<origin>: <path>: <what>").
[[noreturn]] void throw_config_error(const std::string& origin,
                                     const std::string& path,
                                     const std::string& what);

/// Checks every rule; throws ConfigError at the origin of the first key that breaks one.
void validate_experiment_config(const ExperimentConfig& config, const ConfigOrigins& origins);

}  // namespace qkv
