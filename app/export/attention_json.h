// attention.json: one sentence's tokens, model shape and every attention map as one JSON
// document (schema "qkv-attention/1", documented in docs/attention.md):
//   {"format": "qkv-attention/1", "axes": "...",
//    "model":  {"d_model", "num_heads", "d_head", "encoder_layers", "decoder_layers"},
//    "source": {"text", "tokens", "ids"},
//    "target": {"text", "tokens", "ids", "predicted_tokens", "predicted_ids", "forced",
//               "finished"},
//    "sites":  [{"site", "type", "layer", "queries", "keys", "mask", "qkv_origin",
//                "shape": [H, Tq, Tk], "weights": [H][Tq][Tk],
//                with vectors also "query" [H][Tq][Dh], "key" [H][Tk][Dh],
//                "value" [H][Tk][Dh], "output" [H][Tq][Dh]}]}
// Rows are always queries and columns keys. Numbers are float32 values written with the
// shortest decimal form that reads back to the same float32.
#pragma once

#include <filesystem>
#include <string>

#include "train/attention_maps.h"

namespace qkv {

/// The attention.json text of `sentence`. With `include_vectors`, also q, k, v and the head
/// outputs (throws std::invalid_argument if they were not recorded).
std::string attention_json(const SentenceAttention& sentence, bool include_vectors);

/// Writes attention_json(sentence, include_vectors) to `path`. Throws std::runtime_error
/// naming the path when it cannot be written.
void write_attention_json(const std::filesystem::path& path,
                          const SentenceAttention& sentence,
                          bool include_vectors);

}  // namespace qkv
