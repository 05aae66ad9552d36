// `qkv train`: trains a model from an experiment config into a run directory.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "app/commands.h"
#include "app/export/loss_plot.h"
#include "app/export/probe_attention.h"
#include "app/launched_group.h"
#include "app/local_launcher.h"
#include "app/process_settings.h"
#include "inference/loaded_run.h"
#include "train/enum_names.h"
#include "train/metrics_log.h"
#include "train/trainer.h"

namespace qkv {
namespace {

struct TrainCommandOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  std::string run_dir;
  bool resume = false;
  int nproc = 0;  // 0: not asked; N: start N local workers
};

// The worker command line of `qkv train --nproc N`: the same command without --nproc.
std::vector<std::string> worker_args(const TrainCommandOptions& o) {
  std::vector<std::string> args = {"train"};
  if (!o.config_path.empty()) args.insert(args.end(), {"--config", o.config_path});
  for (const auto& item : o.overrides) args.insert(args.end(), {"--set", item});
  if (!o.run_dir.empty()) args.insert(args.end(), {"--run-dir", o.run_dir});
  if (o.resume) args.push_back("--resume");
  return args;
}

// `qkv train --nproc N`: N workers of this executable on this machine, as torchrun would start
// them; their exit status is this command's.
// A torchrun restart (--max_restarts) of a group whose run directory has a checkpoint continues
// it, as if --resume had been given.
bool restarted_by_torchrun(const std::filesystem::path& run_dir) {
  const char* restarts = std::getenv("TORCHELASTIC_RESTART_COUNT");
  return restarts != nullptr && std::atoi(restarts) > 0 && RunDir(run_dir).latest_checkpoint();
}

// What `qkv train` prints when it is done.
void print_summary(const TrainSummary& s,
                   const ExperimentConfig& config,
                   const std::filesystem::path& run_dir) {
  const auto metric = [&](const char* name) {
    auto it = s.last_validation.find(name);
    return it == s.last_validation.end() ? std::string("-") : fmt::format("{:.2f}", it->second);
  };
  std::cout << fmt::format(
      "trained {} steps in {:.1f} min ({}; {:.0f} target tokens/s{}, {} parameters)\n"
      "last validation: loss {} | BLEU {} | chrF {}\n"
      "best {}: {:.2f}\n"
      "run directory: {}\n"
      "  best checkpoint: {}\n  last checkpoint: {}\n",
      s.steps,
      s.seconds / 60.0,
      s.stop_reason,
      s.tokens_per_second,
      s.world_size > 1 ? fmt::format(" on {} processes, {:.0f}% of the time summing gradients",
                                     s.world_size,
                                     100 * s.all_reduce_share)
                       : std::string(),
      s.parameters,
      metric("valid_loss"),
      metric("bleu"),
      metric("chrf"),
      enum_name(config.train.best_metric),
      s.best_score,
      run_dir.string(),
      s.best_checkpoint.empty() ? "-" : s.best_checkpoint.string(),
      s.last_checkpoint.empty() ? "-" : s.last_checkpoint.string());
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto options = std::make_shared<TrainCommandOptions>();
  CLI::App* cmd =
      app.add_subcommand("train", "Train a model from a YAML config into a run directory");
  cmd->add_option("-c,--config", options->config_path, "Experiment YAML (see configs/)");
  cmd->add_option("--set", options->overrides, "Override a key: SECTION.KEY=VALUE (repeatable)");
  cmd->add_option("--run-dir", options->run_dir, "Run directory (default: runs/<config name>)");
  cmd->add_flag("--resume",
                options->resume,
                "Continue from the run directory's latest checkpoint (its saved config + --set)");
  CLI::Option* nproc = cmd->add_option(
      "--nproc",
      options->nproc,
      "Train with N processes on this machine, data-parallel (docs/distributed.md)");
  cmd->callback([options, nproc] {
    if (options->config_path.empty() && !(options->resume && !options->run_dir.empty())) {
      throw CLI::RequiredError("--config (or --resume with --run-dir)");
    }
    std::filesystem::path run_dir = options->run_dir;
    if (run_dir.empty())
      run_dir = std::filesystem::path("runs") / std::filesystem::path(options->config_path).stem();
    if (options->resume || restarted_by_torchrun(run_dir)) options->resume = true;
    const ExperimentConfig config =
        options->resume ? load_run_config(run_dir, options->overrides)
                        : load_experiment_config(options->config_path, options->overrides);
    if (nproc->count() > 0) {
      if (options->nproc < 1) {
        throw CLI::ValidationError("--nproc",
                                   "must be at least 1, got " + std::to_string(options->nproc));
      }
      // The workers wait dist_timeout_s for a lost peer; give them that and a little more.
      const auto grace = std::chrono::seconds(config.train.dist_timeout_s + 10);
      if (options->nproc > 1) {
        throw ExitStatus{launch_this_program(worker_args(*options), options->nproc, grace)};
      }
    }
    const std::unique_ptr<TrainingGroup> group =
        join_group_if_launched(config.train.dist_timeout_s, "train");
    // After the group has shared out the cores; bf16 wants oneDNN's threads (process_settings.h).
    configure_threads(config.train.threads, training_precision(config.train).precision);
    TrainOptions train_options{run_dir, options->resume};
    train_options.group = group.get();
    const RunDir run(run_dir);
    train_options.hooks.after_validation = [&config, run](Translator& translator, int64_t step) {
      save_probe_attention(translator, config.train.probe_sentences, step, run.attention());
    };
    train_options.hooks.after_training = [](const RunDir& trained) {
      write_loss_plot(MetricsLog::read(trained.metrics()), trained.loss_plot());
    };
    const TrainSummary s = train_model(config, train_options);
    if (group && group->rank() != 0) return;  // rank 0 reports for the group
    print_summary(s, config, run_dir);
  });
}

}  // namespace qkv
