// `qkv heads`: which attention heads matter. Switches every head, site and layer of a trained
// model off in turn, then the heads one by one (the pruning curve), and writes a terminal
// table, DIR/heads.json, DIR/importance.png and DIR/pruning.png. A thin shell over
// train/head_importance.h and the writers of app/export/head_report.h and head_figures.h.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "app/commands.h"
#include "app/decode_flags.h"
#include "app/export/head_figures.h"
#include "app/export/head_report.h"
#include "inference/evaluation.h"
#include "train/head_importance.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;

struct HeadsCommand {
  DecodeFlags decode;
  std::string split = "valid";
  std::string metric = "bleu";
  int64_t sentences = 200;
  std::string out;  // default RUN/heads
};

// The output folder, created before the minutes of scoring so that a bad --out fails first.
fs::path make_out_dir(const HeadsCommand& c) {
  const fs::path out = c.out.empty() ? fs::path(c.decode.model) / "heads" : fs::path(c.out);
  std::error_code error;
  fs::create_directories(out, error);
  if (error || !fs::is_directory(out)) {
    throw std::runtime_error("--out: cannot create the folder " + out.string() + ": " +
                             (error ? error.message() : "a file is in the way"));
  }
  return out;
}

std::vector<SentencePair> split_pairs(const LoadedRun& loaded, const std::string& split) {
  TestSet set = prepared_test_set(loaded.config.data, split);
  std::vector<SentencePair> pairs;
  for (size_t i = 0; i < set.sources.size(); ++i) {
    pairs.push_back({std::move(set.sources[i]), std::move(set.references[i])});
  }
  return pairs;
}

void run(const HeadsCommand& c) {
  HeadStudyOptions options;
  options.metric = parse_head_metric(c.metric);
  options.sentences = c.sentences;
  check_head_study_options(options);  // before seconds of loading
  if (!fs::is_directory(c.decode.model)) {
    throw std::runtime_error("--model: no run directory at " + c.decode.model);
  }
  const fs::path out = make_out_dir(c);
  LoadedRun loaded = load_decoding_run(c.decode);
  const std::vector<SentencePair> pairs = split_pairs(loaded, c.split);
  Translator translator(loaded.model, *loaded.tokenizer);
  const auto start = std::chrono::steady_clock::now();
  const HeadStudy study = study_heads(translator, pairs, options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_heads_json(out / "heads.json",
                   study,
                   {c.decode.model, loaded.checkpoint.string(), loaded.step, c.split, seconds});
  write_head_heatmap(study, out / "importance.png");
  write_pruning_curve(study, out / "pruning.png");
  std::cout << heads_table(study) << std::flush;
  spdlog::info(
      "[heads] {:.0f} s; wrote {}/heads.json, importance.png, pruning.png", seconds, out.string());
}

}  // namespace

void add_heads_command(CLI::App& app) {
  auto c = std::make_shared<HeadsCommand>();
  CLI::App* cmd = app.add_subcommand(
      "heads",
      "Which attention heads matter: each head, site and layer switched off in turn, and the "
      "pruning curve (heads off one by one, least important first). Heads are ranked by "
      "teacher-forced loss on the whole split; BLEU/chrF come from greedy decoding of the "
      "first --sentences sentences. Writes a table, DIR/heads.json, DIR/importance.png and "
      "DIR/pruning.png");
  cmd->add_option("-m,--model", c->decode.model, "Run directory written by qkv train")->required();
  cmd->add_option("--checkpoint", c->decode.checkpoint, "best, last, average or a checkpoint file")
      ->capture_default_str();
  cmd->add_option("--split", c->split, "valid or test: the run corpus's split")
      ->capture_default_str();
  cmd->add_option("--metric",
                  c->metric,
                  "bleu | chrf: greedy on --sentences sentences | loss: teacher-forced, whole "
                  "split (fastest)")
      ->capture_default_str();
  cmd->add_option("--sentences",
                  c->sentences,
                  "BLEU/chrF on the first N sentences of the split (the loss uses all)")
      ->capture_default_str();
  cmd->add_option("-o,--out", c->out, "Output folder (default: RUN/heads)");
  cmd->add_option("--device", c->decode.device, std::string("Where to run: ") + kDeviceChoices)
      ->capture_default_str();
  cmd->callback([c] { run(*c); });
}

}  // namespace qkv
