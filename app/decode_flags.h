// Decoding flags shared by translate, evaluate and attention: each overrides the run's
// `decode:` config section when given.
#pragma once

#include <optional>
#include <string>

#include "inference/loaded_run.h"
#include "inference/translator.h"
#include "model/device.h"
#include "train/experiment_config.h"

namespace CLI {
class App;
}

namespace qkv {

struct DecodeFlags {
  std::string model;                // run directory
  std::string checkpoint = "best";  // best | last | PATH
  std::optional<int64_t> beam;
  std::optional<double> length_penalty_alpha;      // --length-penalty
  std::optional<std::string> length_penalty_type;  // --length-penalty-type: gnmt | average
  std::optional<int64_t> max_len;
  int64_t max_tokens = kDefaultDecodeBatchTokens;
  std::string device = "auto";           // auto | cpu | cuda | cuda:N (model/device.h)
  std::string precision = "fp32";        // auto | fp32 | bf16 | int8 (model/precision.h)
  std::optional<std::string> heads_off;  // --heads-off SPEC (model/head_mask.h)
};

/// Adds --model, --checkpoint, --beam, --length-penalty, --length-penalty-type, --max-len,
/// --max-tokens, --device, --precision and --heads-off to `cmd`.
void add_decode_flags(CLI::App& cmd, DecodeFlags& flags);

/// The device --device means here; throws std::invalid_argument for a bad spelling and
/// std::runtime_error when it names a CUDA device that is not usable (one line each).
torch::Device decode_device(const DecodeFlags& flags);

/// The run of --model and --checkpoint loaded onto --device, its GEMM weights packed for
/// --precision (model/linear.h); a precision the CPU lacks native support for is one warning
/// line on stderr; the heads of --heads-off switched off. Throws like load_run and
/// resolve_precision_flag, and std::invalid_argument "--heads-off: ..." (one line naming the
/// site or head) for a bad SPEC, its syntax checked before the run is loaded.
LoadedRun load_decoding_run(const DecodeFlags& flags);

/// The run's decode config with the flags applied; throws std::invalid_argument naming the
/// flag for a bad value (e.g. "--beam: must be at least 1, got 0").
TranslateOptions translate_options(const DecodeFlags& flags, const ExperimentConfig& config);

}  // namespace qkv
