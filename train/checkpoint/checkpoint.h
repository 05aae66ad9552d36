// Checkpoints: everything needed to resume training exactly, in a file that Python reads with
// torch.load(path, weights_only=True) on PyTorch 1.13 and later. Written atomically (temporary
// file, fsync, rename), with a CRC-32 of the payload that is verified on load, so a crash, a
// kill or a flipped bit never yields a checkpoint that silently loads wrong. Tensors are saved
// from the CPU and load onto any device.
//
// File layout (a pickled dict, torch.save's zip format; only dicts, strings, ints and tensors,
// so that torch.load(weights_only=True) reads it on every PyTorch since 1.13; a real number x
// is a 0-dim float64 tensor: float(x) in Python):
//   format     "qkv-checkpoint-1"
//   model      {parameter or buffer name: tensor}      (see model/transformer.h for names)
//   optimizer  {"<param>.exp_avg" / ".exp_avg_sq": tensor}
//   optimizer_steps  {"<param>.step": int}
//   step, epoch, batch (int), elapsed_seconds (real), rng_state (uint8 tensor)
//   config     resolved experiment config (YAML text)
//   tokenizer_crc32  CRC-32 of the run's spm.model (hex)
//   metrics    {name: real}: the last validation figures
//   best_score (real), bad_validations (int): early-stopping state
//   checksum   CRC-32 over all of the above (hex)
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/adam.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
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

/// Parameters and buffers of `module` by name, on the CPU (detached; sharing storage with the
/// module when it is on the CPU, copies otherwise), so checkpoints load on any device.
NamedTensors module_state(const torch::nn::Module& module);

/// Copies `state` into the parameters and buffers of `module`, on the module's device. Throws
/// CheckpointError naming `source` when a name is missing or extra, or a shape differs (another
/// architecture).
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

/// load_checkpoint() in two halves, for rank 0 of a data-parallel run to send the file to the
/// others: the file's bytes (throws CheckpointError "... does not exist or cannot be read"),
/// and their verification and parsing (`name`, the file's path, goes into the errors).
std::string read_checkpoint_bytes(const std::filesystem::path& path);
Checkpoint parse_checkpoint(std::string_view bytes, const std::string& name);

}  // namespace qkv
