// The one place where recorded attention (inference/attention_maps.h) becomes JSON. Every
// attention file qkv writes takes its per-sentence and per-site JSON from here, so that each
// names sites, types, layers, axes and tokens the same way (words from site_description.h):
//   OUT/<i>/attention.json         "qkv-attention/1"      attention_json()
//   OUT/<i>/npy/index.json         "qkv-attention-npy/1"  npy_index_json()
//   RUN/attention/step-<N>.json    "qkv-attention-probes/1", one probe_json() per probe
//                                  (the file: app/export/probe_attention.h)
//   OUT/index.html's data          "qkv-explorer/1", one explorer_sentence_json() per sentence
//                                  (the page: app/export/html_explorer.h)
// Rows are always queries and columns keys. The formats differ in how they write numbers, on
// purpose: attention.json the shortest decimal that reads back to the same float32, probe
// snapshots 4 decimals (small files, one per validation), the explorer base64 of float32 bytes.
//
// attention.json (documented in docs/attention.md):
//   {"format": "qkv-attention/1", "axes": "...",
//    "model":  {"d_model", "num_heads", "d_head", "encoder_layers", "decoder_layers"},
//    "source": {"text", "tokens", "ids"},
//    "target": {"text", "tokens", "ids", "predicted_tokens", "predicted_ids", "forced",
//               "finished"},
//    "heads_off": {site: [heads]}   (only when heads were switched off: their outputs are 0),
//    "sites":  [{"site", "type", "layer", "queries", "keys", "mask", "qkv_origin",
//                "shape": [H, Tq, Tk], "weights": [H][Tq][Tk],
//                with vectors also "query" [H][Tq][Dh], "key" [H][Tk][Dh],
//                "value" [H][Tk][Dh], "output" [H][Tq][Dh]}]}
#pragma once

#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "inference/attention_maps.h"

namespace qkv {

/// The attention.json text of `sentence`. With `include_vectors`, also q, k, v and the head
/// outputs (throws std::invalid_argument if they were not recorded).
std::string attention_json(const SentenceAttention& sentence, bool include_vectors);

/// Writes attention_json(sentence, include_vectors) and a newline to `path` atomically.
/// Throws std::runtime_error naming the path when it cannot be written.
void write_attention_json(const std::filesystem::path& path,
                          const SentenceAttention& sentence,
                          bool include_vectors);

/// The name of the .npy file that holds `kind` ("weights", "query", "key", "value" or
/// "output") of `site`: "<site>.<kind>.npy", e.g. "decoder.1.cross_attn.weights.npy".
std::string npy_file_name(const SiteAttention& site, const std::string& kind);

/// The text of npy/index.json for the files write_attention_npy writes (weights, and with
/// `vectors` also q, k, v and head outputs, throwing std::invalid_argument if they were not
/// recorded): {"format": "qkv-attention-npy/1", "axes", "d_head", "source_tokens",
/// "target_tokens", "predicted_tokens", "sites": [{"site", "type", "layer", "queries",
/// "keys", "mask", "files": {"weights": ..., "query": ...}, "shapes": {...}}]}.
std::string npy_index_json(const SentenceAttention& sentence, bool vectors);

/// One entry of a probe snapshot's "probes": {"source", "translation", "source_tokens",
/// "target_tokens", "predicted_tokens", "cross_attn": [layer][head][query][key]}, weights
/// rounded to 4 decimals.
nlohmann::json probe_json(const SentenceAttention& sentence);

/// One entry of the explorer's "sentences": tokens, model shape, "heads_off" as in
/// attention.json, and every site with its weights, q, k, v and head outputs as base64 float32
/// (throws std::invalid_argument naming the site when q, k, v were not recorded).
nlohmann::json explorer_sentence_json(const SentenceAttention& sentence);

}  // namespace qkv
