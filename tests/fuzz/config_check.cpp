// check_config_input (see fuzz_checks.h).
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_checks.h"
#include "train/experiment_config.h"

namespace qkv::fuzz {

std::string check_config_input(std::string_view input) {
  const std::string text(input);
  std::vector<std::string> overrides;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("#set ", 0) == 0) overrides.push_back(line.substr(5));
  }
  ExperimentConfig config;
  try {
    config = parse_experiment_config(text, "fuzz.yaml", overrides);
  } catch (const ConfigError&) {
    return "";  // the expected outcome for bad input
  }
  for (const bool with_docs : {false, true}) {
    const std::string yaml = to_yaml(config, with_docs);
    ExperimentConfig again;
    try {
      again = parse_experiment_config(yaml, "round-trip.yaml");
    } catch (const ConfigError& e) {
      return std::string("a config that parsed fails to parse after to_yaml: ") + e.what() + "\n" +
             yaml;
    }
    if (again != config) return "to_yaml -> parse changed the config:\n" + yaml;
  }
  return "";
}

}  // namespace qkv::fuzz
