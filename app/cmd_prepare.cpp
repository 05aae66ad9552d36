// `qkv prepare`: writes the train/valid/test split files of a corpus and prints the counts per
// split and per reading/cleaning rule. A thin shell over prepare_corpus() (data/prepare.h).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/commands.h"
#include "data/prepare.h"
#include "train/experiment_config.h"

namespace qkv {
namespace {

struct PrepareOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  std::string corpus;
  std::string out;
  std::string raw_dir;
  std::string source_lang;
  std::string target_lang;
};

// The data section to prepare: the config's (or the defaults), then the command-line flags.
DataConfig resolve_data_config(const PrepareOptions& options) {
  DataConfig data =
      (options.config_path.empty() ? parse_experiment_config("{}", "defaults", options.overrides)
                                   : load_experiment_config(options.config_path, options.overrides))
          .data;
  if (!options.corpus.empty() && options.corpus != data.corpus) {
    data.corpus = options.corpus;
    if (data.corpus != "files") {
      // A corpus named on the command line brings its own languages.
      const auto [first, second] = corpus_languages(data.corpus);
      const bool fits = (data.source_lang == first && data.target_lang == second) ||
                        (data.source_lang == second && data.target_lang == first);
      if (!fits) data.source_lang = first, data.target_lang = second;
    }
  }
  if (!options.source_lang.empty()) data.source_lang = options.source_lang;
  if (!options.target_lang.empty()) data.target_lang = options.target_lang;
  if (!options.out.empty()) data.prepared_dir = options.out;
  if (!options.raw_dir.empty()) data.raw_dir = options.raw_dir;
  return data;
}

void print_report(const PreparedCorpus& prepared) {
  std::cout << fmt::format("{} {} in {}\n",
                           prepared.corpus,
                           prepared.reused ? "was already prepared (inputs unchanged)" : "prepared",
                           prepared.dir.string());
  std::cout << fmt::format(
      "  {:<6} {:>7}  {} -> {}\n", "split", "pairs", prepared.source_lang, prepared.target_lang);
  for (const auto& [name, split] : {std::pair{"train", &prepared.train},
                                    std::pair{"valid", &prepared.valid},
                                    std::pair{"test", &prepared.test}}) {
    if (split->source.empty()) {
      std::cout << fmt::format("  {:<6} {:>7}  (no test files given)\n", name, "-");
    } else {
      std::cout << fmt::format("  {:<6} {:>7}  {}  {}\n",
                               name,
                               split->pairs,
                               split->source.string(),
                               split->target.string());
    }
  }
  std::size_t width = 0;
  for (const auto& rule : prepared.rule_counts) width = std::max(width, rule.first.size());
  std::cout << "counts:\n";
  for (const auto& [name, count] : prepared.rule_counts) {
    std::cout << fmt::format("  {:<{}}  {:>7}\n", name, width, count);
  }
}

}  // namespace

void add_prepare_command(CLI::App& app) {
  auto options = std::make_shared<PrepareOptions>();
  CLI::App* cmd = app.add_subcommand(
      "prepare",
      "Write a corpus's train/valid/test split files and print the counts per split and rule");
  cmd->add_option("-c,--config", options->config_path, "Experiment YAML whose data: to prepare");
  cmd->add_option("--set", options->overrides, "Override a key: SECTION.KEY=VALUE (repeatable)");
  cmd->add_option("--corpus", options->corpus, "Corpus (default: the config's data.corpus)")
      ->check(CLI::IsMember(corpus_names()));
  cmd->add_option("--out",
                  options->out,
                  "Folder for the split files (default: data.prepared_dir, else "
                  "~/.cache/qkv/corpora/<corpus>)");
  cmd->add_option("--raw-dir",
                  options->raw_dir,
                  "Folder of the raw files (multi30k, tatoeba; for ding-en-de one holding de-en)");
  cmd->add_option("--source-lang", options->source_lang, "Source language code, e.g. en");
  cmd->add_option("--target-lang", options->target_lang, "Target language code, e.g. de");
  cmd->callback([options] { print_report(prepare_corpus(resolve_data_config(*options))); });
}

}  // namespace qkv
