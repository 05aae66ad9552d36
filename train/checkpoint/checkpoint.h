// Checkpoints: everything needed to resume training exactly, in a file that Python reads with
// torch.load(path). Written atomically (temporary file, fsync, rename), with a CRC-32 of the
// payload that is verified on load, so a crash, a kill or a flipped bit never yields a
// checkpoint that silently loads wrong.
//
// File layout (a pickled dict, torch.save's zip format):
//   format     "qkv-checkpoint-1"
//   model      {parameter or buffer name: tensor}      (see model/transformer.h for names)
//   optimizer  {"<param>.exp_avg" / ".exp_avg_sq": tensor, "<param>.step": int}
//   step, epoch, batch (int), elapsed_seconds (float), rng_state (uint8 tensor)
//   config     resolved experiment config (YAML text)
//   tokenizer_crc32  CRC-32 of the run's spm.model (hex)
//   metrics    {name: float}: the last validation figures
//   best_score, bad_validations: early-stopping state
//   checksum   CRC-32 over all of the above (hex)
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/adam.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "data/io/atomic_file.h"  // write_file_atomically, for the checkpoint writers
#include "data/io/crc32.h"        // file_crc32: the tokenizer_crc32 field

namespace qkv {

/// A checkpoint that cannot be used; the message names the file and says why.
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct Checkpoint {
  NamedTensors model;
  NamedTensors optimizer;
  std::map<std::string, int64_t> optimizer_steps;  // "<param>.step"
  int64_t step = 0;                                // optimiser steps done
  int64_t epoch = 0;                               // data position of the next batch
  int64_t batch = 0;
  double elapsed_seconds = 0;  // training wall time so far
  torch::Tensor rng_state;     // CPU generator state
  std::string config_yaml;
  std::string tokenizer_crc32;
  std::map<std::string, double> metrics;
  double best_score = 0;
  int64_t bad_validations = 0;
};

/// Parameters and buffers of `module` by name (detached CPU tensors sharing storage).
NamedTensors module_state(const torch::nn::Module& module);

/// Copies `state` into the parameters and buffers of `module`. Throws CheckpointError naming
/// `source` when a name is missing or extra, or a shape differs (another architecture).
void load_module_state(torch::nn::Module& module,
                       const NamedTensors& state,
                       const std::string& source);

/// Adam's moment estimates and step counts for `module`'s parameters, by parameter name.
void store_optimizer_state(const torch::optim::Adam& optimizer,
                           const torch::nn::Module& module,
                           Checkpoint& checkpoint);
void restore_optimizer_state(torch::optim::Adam& optimizer,
                             const torch::nn::Module& module,
                             const Checkpoint& checkpoint,
                             const std::string& source);

/// Serialises `checkpoint` and writes it atomically to `path`.
void save_checkpoint(const Checkpoint& checkpoint, const std::filesystem::path& path);

/// Reads and verifies a checkpoint. Throws CheckpointError: "checkpoint X is corrupted
/// (checksum mismatch)", "... is truncated or not a checkpoint", "... does not exist".
Checkpoint load_checkpoint(const std::filesystem::path& path);

}  // namespace qkv
