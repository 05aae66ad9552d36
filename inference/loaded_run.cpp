#include "inference/loaded_run.h"

#include "data/special_tokens.h"
#include "train/checkpoint/checkpoint.h"
#include "train/checkpoint/run_dir.h"

namespace qkv {

ExperimentConfig load_run_config(const std::filesystem::path& run_dir,
                                 const std::vector<std::string>& overrides) {
  const RunDir run(run_dir);
  if (!std::filesystem::exists(run.config())) {
    throw std::runtime_error("run directory " + run_dir.string() +
                             " has no config.yaml (is it a qkv run directory?)");
  }
  return load_experiment_config(run.config(), overrides);
}

LoadedRun load_run(const std::filesystem::path& run_dir,
                   const std::string& which,
                   torch::Device device) {
  const RunDir run(run_dir);
  if (!std::filesystem::is_directory(run_dir)) {
    throw std::runtime_error("run directory " + run_dir.string() + " does not exist");
  }
  LoadedRun loaded;
  loaded.config = load_run_config(run_dir, {});
  loaded.checkpoint = run.resolve_checkpoint(which);
  const Checkpoint checkpoint = load_checkpoint(loaded.checkpoint);
  if (!std::filesystem::exists(run.tokenizer())) {
    throw std::runtime_error("run directory " + run_dir.string() + " has no spm.model");
  }
  if (file_crc32(run.tokenizer()) != checkpoint.tokenizer_crc32) {
    throw std::runtime_error("checkpoint " + loaded.checkpoint.string() + " was not trained with " +
                             run.tokenizer().string() + " (tokenizer CRC-32 differs)");
  }
  loaded.tokenizer = std::make_unique<Tokenizer>(Tokenizer::load(run.tokenizer()));
  // The architecture is the checkpoint's own (the run's config.yaml may have been edited).
  const ExperimentConfig trained =
      parse_experiment_config(checkpoint.config_yaml, loaded.checkpoint.string());
  loaded.config.model = trained.model;
  loaded.model = Transformer(trained.model, loaded.tokenizer->vocab_size(), kPadId);
  loaded.model->to(device);
  load_module_state(*loaded.model, checkpoint.model, loaded.checkpoint.string());
  loaded.model->eval();
  loaded.step = checkpoint.step;
  return loaded;
}

}  // namespace qkv
