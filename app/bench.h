// Benchmarks with the same shapes, fields and FLOP formulas as the Python peer
// (../shared/bench/peer_transformer.py), so that figures can be compared side by side.
#pragma once

#include <cstdint>
#include <string>

namespace qkv {

struct BenchOptions {
  int64_t vocab = 8000;
  int64_t d_model = 256;
  int64_t heads = 4;
  int64_t d_ff = 1024;
  int64_t enc_layers = 3;
  int64_t dec_layers = 3;
  double dropout = 0.1;
  int64_t batch = 64;  // sentences per batch
  int64_t src_len = 32;
  int64_t tgt_len = 32;
  int64_t max_len = 32;  // greedy/beam: tokens generated
  int64_t beam = 4;      // beam mode
  int64_t warmup_steps = 3;
  int64_t steps = 20;   // train: timed steps
  int64_t runs = 3;     // greedy/beam: timed decodes
  int64_t threads = 0;  // torch intra-op threads; 0 = qkv's default
  int64_t nproc = 1;    // train: data-parallel workers on this machine, sharing `batch`
  int64_t seed = 0;
  std::string model;  // translate: run directory
  std::string input;  // translate: source sentences, one per line (default: the run's test split)
  std::string device = "auto";     // auto | cpu | cuda | cuda:N (model/device.h)
  std::string precision = "fp32";  // auto | fp32 | bf16 | int8 (model/precision.h)
};

/// `--nproc`: how long the ranks of `qkv bench train` wait for each other to join and in each
/// collective.
constexpr int64_t kBenchGroupTimeoutSeconds = 30;

/// Runs `mode` (train | greedy | beam | gemm | translate) and returns one JSON object as text.
/// Throws std::invalid_argument for an unknown mode or bad sizes. In train mode a process that a
/// launcher started as one rank of a data-parallel group (WORLD_SIZE > 1, see `nproc`) joins it;
/// rank 0 returns the group's figures and the other ranks return "".
std::string run_benchmark(const std::string& mode, const BenchOptions& options);

}  // namespace qkv
