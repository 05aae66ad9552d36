// Probe-sentence snapshots: at each validation, the cross-attention of a few fixed sentences,
// so that one can watch alignment form over training (the HTML explorer's timeline slider).
// `qkv train` plugs save_probe_attention into the trainer's after_validation hook
// (app/cmd_train.cpp); `qkv attention` reads the files back for the explorer.
//
// RUN/attention/step-<N>.json, format "qkv-attention-probes/1":
//   {"format", "step", "axes": "...", "probes": [{"source", "translation", "source_tokens",
//    "target_tokens", "predicted_tokens", "cross_attn": [layer][head][query][key]}]}
// (each probe's JSON from probe_json() in attention_json.h; weights rounded to 4 decimals).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "inference/translator.h"

namespace qkv {

/// Decodes every probe sentence greedily and writes its cross-attention maps (all decoder
/// layers and heads) to `attention_dir`/step-<step>.json atomically, creating the directory.
/// The model's train/eval mode is restored afterwards. Does nothing for no probes. Throws
/// std::runtime_error naming the file when it cannot be written (std::filesystem_error when
/// the directory cannot be created).
void save_probe_attention(Translator& translator,
                          const std::vector<std::string>& probes,
                          int64_t step,
                          const std::filesystem::path& attention_dir);

/// The step-<N>.json files of `attention_dir`, ordered by step (empty if there are none).
std::vector<std::filesystem::path> probe_attention_files(
    const std::filesystem::path& attention_dir);

/// One snapshot file, parsed. Throws std::runtime_error naming the path when it cannot be
/// read, is not JSON or is not a "qkv-attention-probes/1" file.
nlohmann::json read_probe_attention(const std::filesystem::path& path);

}  // namespace qkv
