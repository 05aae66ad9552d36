// `qkv export`: a run's model weights in a format other tools read without qkv or a pickle.
// So far safetensors (train/checkpoint/safetensors.h): numpy, PyTorch and most model tools load
// it, e.g. `safetensors.numpy.load_file(path)`. A thin shell over save_safetensors().
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "app/commands.h"
#include "train/checkpoint/checkpoint.h"
#include "train/checkpoint/run_dir.h"
#include "train/checkpoint/safetensors.h"

namespace qkv {
namespace {

struct ExportOptions {
  std::string run;
  std::string checkpoint = "best";
  std::string safetensors;
};

void run_export(const ExportOptions& options) {
  const RunDir run(options.run);
  const auto path = run.resolve_checkpoint(options.checkpoint);
  const Checkpoint checkpoint = load_checkpoint(path);
  // Metadata values are strings in safetensors: the config makes the file self-describing.
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"},
      {"qkv_step", std::to_string(checkpoint.step)},
      {"qkv_config", checkpoint.config_yaml}};
  save_safetensors(checkpoint.model, metadata, options.safetensors);
  std::cout << fmt::format("{} tensors of {} (step {}) -> {}\n",
                           checkpoint.model.size(),
                           path.string(),
                           checkpoint.step,
                           options.safetensors);
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto options = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand("export", "Write a run's model weights as a safetensors file");
  cmd->add_option("-m,--model", options->run, "Run directory")->required();
  cmd->add_option("--checkpoint", options->checkpoint, "best (default), last, average or a path");
  cmd->add_option("--safetensors", options->safetensors, "Output file (.safetensors)")->required();
  cmd->callback([options] { run_export(*options); });
}

}  // namespace qkv
