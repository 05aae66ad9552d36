// Test helpers for app/export tests: a small random-weight model and sentences collected from
// it, labelled with German and Cyrillic pieces (the labels need not match the ids: writers
// only draw them).
#pragma once

#include <torch/torch.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/transformer.h"
#include "train/attention_maps.h"

namespace qkv::test {

constexpr int64_t kVocab = 40;

inline ModelConfig tiny_config() {
  ModelConfig config;
  config.d_model = 16;
  config.num_heads = 2;
  config.d_ff = 32;
  config.encoder_layers = 2;
  config.decoder_layers = 2;
  config.dropout = 0.0;
  config.attention_dropout = 0.0;
  config.max_positions = 64;
  return config;
}

inline Transformer tiny_model(uint64_t seed = 1) {
  torch::manual_seed(seed);
  Transformer model(tiny_config(), kVocab, /*pad_id=*/0);
  model->eval();
  return model;
}

/// Content ids 4, 5, ... (n of them).
inline std::vector<int64_t> content_ids(int64_t n, int64_t first = 4) {
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(first + (i % (kVocab - first)));
  return ids;
}

/// Labels for `ids` cycling through German and Cyrillic pieces, `last` appended.
inline std::vector<std::string> labels(size_t n,
                                       const std::string& first,
                                       const std::string& last) {
  static const std::vector<std::string> pieces = {"\u2581Stra\u00dfe",
                                                  "n",
                                                  "\u2581sch\u00f6n",
                                                  "\u2581\u041f\u0440\u0438\u0432\u0435\u0442",
                                                  "\u2581\u043c\u0438\u0440",
                                                  "\u2581Haus",
                                                  "t\u00fcr",
                                                  "\u2581gr\u00fc\u00dft"};
  std::vector<std::string> out;
  if (!first.empty()) out.push_back(first);
  while (out.size() + (last.empty() ? 0 : 1) < n) out.push_back(pieces[out.size() % pieces.size()]);
  if (!last.empty()) out.push_back(last);
  return out;
}

/// A sentence of `source_length` + </s> source and <s> + `target_length` target positions,
/// collected from tiny_model(seed), labelled.
inline SentenceAttention labelled_sentence(int64_t source_length = 5,
                                           int64_t target_length = 4,
                                           bool projections = true,
                                           uint64_t seed = 1) {
  Transformer model = tiny_model(seed);
  TokenPair tokens;
  tokens.source = content_ids(source_length);
  tokens.target = content_ids(target_length, 10);
  SentenceAttention sentence = collect_attention(model, tokens, projections);
  sentence.source_text = "Straße schön, Привет мир";
  sentence.target_text = "Haustür grüßt";
  sentence.source_tokens = labels(sentence.source_ids.size(), "", "</s>");
  sentence.target_tokens = labels(sentence.target_ids.size(), "<s>", "");
  sentence.predicted_tokens = labels(sentence.predicted_ids.size(), "", "</s>");
  return sentence;
}

/// A fresh empty directory under the system temp dir, named after the running test.
inline std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("qkv_export_test_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// Contents of a text file.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

}  // namespace qkv::test
