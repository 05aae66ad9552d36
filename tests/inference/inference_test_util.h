// Test helpers for inference/ (and the exporters built on it): a tiny random-weight model, a
// SentencePiece model trained on the small fixture corpus, content ids and scratch folders.
#pragma once

#include <torch/torch.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "model/config.h"
#include "model/transformer.h"
#include "tests/common/test_model_config.h"

namespace qkv::test {

constexpr int64_t kVocab = 40;

inline ModelConfig tiny_config() {
  return test_model_config(/*d_model=*/16, /*num_heads=*/2, /*d_ff=*/32);
}

/// tiny_config() with random weights for a `vocab`-word vocabulary (pad id 0), in eval mode.
inline Transformer tiny_model(uint64_t seed = 1, int64_t vocab = kVocab) {
  torch::manual_seed(seed);
  Transformer model(tiny_config(), vocab, /*pad_id=*/0);
  model->eval();
  return model;
}

/// Content ids 4, 5, ... (n of them).
inline std::vector<int64_t> content_ids(int64_t n, int64_t first = 4) {
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(first + (i % (kVocab - first)));
  return ids;
}

/// A fresh empty directory under the system temp dir, named after the running test.
inline std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("qkv_test_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// The lines of tests/fixtures/data/small.en and small.de (English-German sentences).
inline std::vector<std::string> fixture_sentences() {
  std::vector<std::string> lines;
  for (const char* file : {"small.en", "small.de"}) {
    std::ifstream in(std::string(QKV_FIXTURES_DIR) + "/data/" + file);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  return lines;
}

/// A 120-piece SentencePiece model of fixture_sentences(), saved as `dir`/spm.model.
inline std::unique_ptr<Tokenizer> fixture_tokenizer(const std::filesystem::path& dir) {
  TokenizerOptions options;
  options.vocab_size = 120;
  return std::make_unique<Tokenizer>(
      Tokenizer::train(fixture_sentences(), options, dir / "spm.model"));
}

}  // namespace qkv::test
