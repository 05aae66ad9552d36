// `qkv train`: trains a model from an experiment config into a run directory.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

#include "app/commands.h"
#include "app/export/loss_plot.h"
#include "app/export/probe_attention.h"
#include "app/process_settings.h"
#include "inference/loaded_run.h"
#include "train/enum_names.h"
#include "train/metrics_log.h"
#include "train/trainer.h"

namespace qkv {

void add_train_command(CLI::App& app) {
  struct Options {
    std::string config_path;
    std::vector<std::string> overrides;
    std::string run_dir;
    bool resume = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd =
      app.add_subcommand("train", "Train a model from a YAML config into a run directory");
  cmd->add_option("-c,--config", options->config_path, "Experiment YAML (see configs/)");
  cmd->add_option("--set", options->overrides, "Override a key: SECTION.KEY=VALUE (repeatable)");
  cmd->add_option("--run-dir", options->run_dir, "Run directory (default: runs/<config name>)");
  cmd->add_flag("--resume",
                options->resume,
                "Continue from the run directory's latest checkpoint (its saved config + --set)");
  cmd->callback([options] {
    if (options->config_path.empty() && !(options->resume && !options->run_dir.empty())) {
      throw CLI::RequiredError("--config (or --resume with --run-dir)");
    }
    std::filesystem::path run_dir = options->run_dir;
    if (run_dir.empty())
      run_dir = std::filesystem::path("runs") / std::filesystem::path(options->config_path).stem();
    const ExperimentConfig config =
        options->resume ? load_run_config(run_dir, options->overrides)
                        : load_experiment_config(options->config_path, options->overrides);
    configure_threads(config.train.threads);
    TrainOptions train_options{run_dir, options->resume};
    const RunDir run(run_dir);
    train_options.hooks.after_validation = [&config, run](Translator& translator, int64_t step) {
      save_probe_attention(translator, config.train.probe_sentences, step, run.attention());
    };
    train_options.hooks.after_training = [](const RunDir& trained) {
      write_loss_plot(MetricsLog::read(trained.metrics()), trained.loss_plot());
    };
    const TrainSummary s = train_model(config, train_options);
    const auto metric = [&](const char* name) {
      auto it = s.last_validation.find(name);
      return it == s.last_validation.end() ? std::string("-") : fmt::format("{:.2f}", it->second);
    };
    std::cout << fmt::format(
        "trained {} steps in {:.1f} min ({}; {:.0f} target tokens/s, {} parameters)\n"
        "last validation: loss {} | BLEU {} | chrF {}\n"
        "best {}: {:.2f}\n"
        "run directory: {}\n"
        "  best checkpoint: {}\n  last checkpoint: {}\n",
        s.steps,
        s.seconds / 60.0,
        s.stop_reason,
        s.tokens_per_second,
        s.parameters,
        metric("valid_loss"),
        metric("bleu"),
        metric("chrf"),
        enum_name(config.train.best_metric),
        s.best_score,
        run_dir.string(),
        s.best_checkpoint.empty() ? "-" : s.best_checkpoint.string(),
        s.last_checkpoint.empty() ? "-" : s.last_checkpoint.string());
  });
}

}  // namespace qkv
