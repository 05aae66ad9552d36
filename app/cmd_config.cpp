// `qkv config`: prints the resolved, validated experiment config (defaults, file, --set
// overrides), optionally with every key documented. Useful to check a config before training.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/commands.h"
#include "train/experiment_config.h"

namespace qkv {

void add_config_command(CLI::App& app) {
  struct Options {
    std::string config_path;
    std::vector<std::string> overrides;
    bool docs = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "config", "Print the resolved experiment config (defaults + FILE + --set), validated");
  cmd->add_option("config", options->config_path, "Experiment YAML (omit for the defaults)");
  cmd->add_option("--set", options->overrides, "Override a key: SECTION.KEY=VALUE (repeatable)");
  cmd->add_flag("--docs", options->docs, "Document every key in a trailing comment");
  cmd->callback([options] {
    const ExperimentConfig config =
        options->config_path.empty()
            ? parse_experiment_config("{}", "defaults", options->overrides)
            : load_experiment_config(options->config_path, options->overrides);
    std::cout << to_yaml(config, options->docs);
  });
}

}  // namespace qkv
