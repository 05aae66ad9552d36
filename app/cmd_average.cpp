// `qkv average`: averages the model weights of a run's last N step checkpoints into one
// checkpoint (default RUN/checkpoints/average.pt, then `--checkpoint average` selects it).
// A thin shell over average_checkpoints() (train/checkpoint_average.h).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "app/commands.h"
#include "train/checkpoint/average.h"
#include "train/checkpoint/run_dir.h"

namespace qkv {
namespace {

struct AverageOptions {
  std::string run;
  int64_t last = 3;
  std::string out;
};

void run_average(const AverageOptions& options) {
  const RunDir run(options.run);
  const auto inputs = last_step_checkpoints(run.root(), options.last);
  const auto out =
      options.out.empty() ? run.average_checkpoint() : std::filesystem::path(options.out);
  const Checkpoint average = average_checkpoints(inputs);
  save_checkpoint(average, out);
  std::string names;
  for (const auto& path : inputs) names += (names.empty() ? "" : ", ") + path.filename().string();
  std::cout << fmt::format("averaged {} checkpoint{} ({}) -> {}\n",
                           inputs.size(),
                           inputs.size() == 1 ? "" : "s",
                           names,
                           out.string());
}

}  // namespace

void add_average_command(CLI::App& app) {
  auto options = std::make_shared<AverageOptions>();
  CLI::App* cmd = app.add_subcommand(
      "average",
      "Average the weights of a run's last N checkpoints (translate with --checkpoint average)");
  cmd->add_option("-m,--model", options->run, "Run directory")->required();
  cmd->add_option("--last", options->last, "How many of the newest step checkpoints (default 3)");
  cmd->add_option(
      "--out", options->out, "Where to write the average (default RUN/checkpoints/average.pt)");
  cmd->callback([options] { run_average(*options); });
}

}  // namespace qkv
