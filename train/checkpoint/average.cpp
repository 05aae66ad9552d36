#include "train/checkpoint/average.h"

#include <ATen/ATen.h>

#include <map>
#include <stdexcept>
#include <string>

#include "train/checkpoint/run_dir.h"

namespace qkv {

Checkpoint average_checkpoints(const std::vector<std::filesystem::path>& paths) {
  if (paths.empty()) throw CheckpointError("no checkpoints to average");
  Checkpoint average = load_checkpoint(paths.front());
  // Sum in float64 so that the mean of a few float32 tensors is exact to float32 rounding.
  std::map<std::string, at::Tensor> sums;
  for (const auto& [name, tensor] : average.model) sums[name] = tensor.to(at::kDouble);

  for (size_t i = 1; i < paths.size(); ++i) {
    const Checkpoint next = load_checkpoint(paths[i]);
    const std::string file = paths[i].string();
    if (next.tokenizer_crc32 != average.tokenizer_crc32) {
      throw CheckpointError("checkpoint " + file + " has another tokenizer than " +
                            paths.front().string() + " (not the same run?)");
    }
    if (next.model.size() != sums.size()) {
      throw CheckpointError("checkpoint " + file + " has " + std::to_string(next.model.size()) +
                            " tensors, " + paths.front().string() + " has " +
                            std::to_string(sums.size()) + " (another architecture?)");
    }
    for (const auto& [name, tensor] : next.model) {
      auto sum = sums.find(name);
      if (sum == sums.end() || !sum->second.sizes().equals(tensor.sizes())) {
        throw CheckpointError("checkpoint " + file + " does not match " + paths.front().string() +
                              " at '" + name + "' (another architecture?)");
      }
      sum->second.add_(tensor.to(at::kDouble));
    }
    average.step = next.step;
    average.epoch = next.epoch;
    average.batch = next.batch;
    average.elapsed_seconds = next.elapsed_seconds;
    average.config_yaml = next.config_yaml;
    average.metrics = next.metrics;
  }

  const auto count = static_cast<double>(paths.size());
  for (auto& [name, tensor] : average.model) {
    tensor = sums.at(name).div_(count).to(tensor.scalar_type());
  }
  average.optimizer.clear();
  average.optimizer_steps.clear();
  average.metrics["averaged_checkpoints"] = count;
  return average;
}

std::vector<std::filesystem::path> last_step_checkpoints(const std::filesystem::path& run,
                                                         int64_t count) {
  if (count < 1) {
    throw std::runtime_error("--last must be at least 1, got " + std::to_string(count));
  }
  auto all = RunDir(run).step_checkpoints();
  if (all.empty()) {
    throw std::runtime_error("run directory " + run.string() +
                             " has no step checkpoints to average");
  }
  const auto keep = std::min(all.size(), static_cast<size_t>(count));
  return {all.end() - static_cast<std::ptrdiff_t>(keep), all.end()};
}

}  // namespace qkv
