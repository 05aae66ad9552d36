// Decoding flags (see decode_flags.h).
#include "app/decode_flags.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <stdexcept>

#include "app/process_settings.h"
#include "inference/request_limits.h"
#include "model/head_mask.h"
#include "model/precision.h"
#include "train/enum_names.h"

namespace qkv {

void add_decode_flags(CLI::App& cmd, DecodeFlags& flags) {
  cmd.add_option("-m,--model", flags.model, "Run directory written by qkv train")->required();
  cmd.add_option("--checkpoint",
                 flags.checkpoint,
                 "best, last, average (see qkv average) or a checkpoint file")
      ->capture_default_str();
  cmd.add_option(
      "--beam", flags.beam, "Beam size (1 = greedy; default: the run's decode.beam_size)");
  cmd.add_option("--length-penalty",
                 flags.length_penalty_alpha,
                 "Length penalty alpha (default: the run's decode.length_penalty)");
  cmd.add_option("--length-penalty-type",
                 flags.length_penalty_type,
                 "gnmt: score / ((5+len)/6)^alpha | average: score / len^alpha");
  cmd.add_option("--max-len", flags.max_len, "At most this many output tokens per sentence");
  cmd.add_option("--max-tokens", flags.max_tokens, "Batch budget in source tokens x beam")
      ->capture_default_str();
  cmd.add_option("--device", flags.device, std::string("Where to run: ") + kDeviceChoices)
      ->capture_default_str();
  cmd.add_option("--precision",
                 flags.precision,
                 "GEMM precision: auto (bf16 where the CPU has it natively), fp32, bf16 or int8")
      ->capture_default_str();
  cmd.add_option(
      "--heads-off",
      flags.heads_off,
      "Switch attention heads off, e.g. 'decoder.2.cross_attn:1,3;encoder.0.self_attn:0' "
      "(sites as in qkv attention)");
}

torch::Device decode_device(const DecodeFlags& flags) { return resolve_device_flag(flags.device); }

namespace {

// Runs `step` (parse or check a head mask), naming the flag in its error.
template <class Step>
auto with_heads_off_flag(Step&& step) {
  try {
    return step();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--heads-off: ") + e.what());
  }
}

}  // namespace

LoadedRun load_decoding_run(const DecodeFlags& flags) {
  // Parsed first: a typo fails before seconds of loading.
  std::optional<HeadMask> heads_off;
  if (flags.heads_off) {
    heads_off = with_heads_off_flag([&] { return parse_head_mask(*flags.heads_off); });
  }
  const torch::Device device = decode_device(flags);
  const ResolvedPrecision precision =
      resolve_precision_flag(flags.precision, device, /*for_training=*/false);
  if (precision.slow) std::cerr << "qkv: warning: " << precision.reason << "\n";
  configure_threads(0, precision.precision);  // bf16: oneDNN's threads (process_settings.h)
  LoadedRun loaded = load_run(flags.model, flags.checkpoint, device);
  loaded.model->pack_for_decoding(precision.precision);
  if (heads_off) with_heads_off_flag([&] { loaded.model->set_head_mask(*heads_off); });
  return loaded;
}

TranslateOptions translate_options(const DecodeFlags& flags, const ExperimentConfig& config) {
  TranslateOptions options;
  options.decode = config.decode;
  if (flags.beam) {
    if (*flags.beam < 1)
      throw std::invalid_argument("--beam: must be at least 1, got " + std::to_string(*flags.beam));
    options.decode.beam_size = *flags.beam;
  }
  if (flags.length_penalty_alpha) {
    if (*flags.length_penalty_alpha < 0)
      throw std::invalid_argument("--length-penalty: must not be negative");
    options.decode.length_penalty_alpha = *flags.length_penalty_alpha;
  }
  if (flags.length_penalty_type) {
    const auto type = enum_from_name<LengthPenaltyType>(*flags.length_penalty_type);
    if (!type) {
      throw std::invalid_argument("--length-penalty-type: '" + *flags.length_penalty_type +
                                  "' is not one of: " + enum_name_list<LengthPenaltyType>());
    }
    options.decode.length_penalty_type = *type;
  }
  if (flags.max_len) {
    if (*flags.max_len < 1)
      throw std::invalid_argument("--max-len: must be at least 1, got " +
                                  std::to_string(*flags.max_len));
    options.max_output_tokens = *flags.max_len;
  }
  if (flags.max_tokens < 1) throw std::invalid_argument("--max-tokens: must be at least 1");
  options.max_tokens = flags.max_tokens;
  check_request_limits(options, config.model.max_positions, kCliLimitNames);
  return options;
}

}  // namespace qkv
