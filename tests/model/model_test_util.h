// Test helpers for model/ tests: small configs, random token batches, search options.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "model/config.h"
#include "model/search.h"
#include "tests/common/test_model_config.h"

namespace qkv::test {

constexpr int64_t kPad = 0;
constexpr int64_t kBos = 2;
constexpr int64_t kEos = 3;

/// A small model config for fast tests (no dropout unless asked).
inline ModelConfig small_config() {
  return test_model_config(/*d_model=*/32, /*num_heads=*/4, /*d_ff=*/64);
}

/// Random token ids in [4, vocab) of the given lengths, right-padded with kPad: [B, max len].
inline torch::Tensor random_tokens(const std::vector<int64_t>& lengths, int64_t vocab) {
  int64_t longest = 0;
  for (auto length : lengths) {
    longest = std::max(longest, length);
  }
  auto tokens = torch::full({static_cast<int64_t>(lengths.size()), longest}, kPad, torch::kLong);
  for (size_t row = 0; row < lengths.size(); ++row) {
    tokens[static_cast<int64_t>(row)]
        .narrow(0, 0, lengths[row])
        .copy_(torch::randint(4, vocab, {lengths[row]}, torch::kLong));
  }
  return tokens;
}

/// Search options with the test ids above, `beam` and `n_best`, and short outputs (at most
/// source length + 3 tokens).
inline SearchOptions search_options(int64_t beam, int64_t n_best = 1) {
  SearchOptions options;
  options.bos_id = kBos;
  options.eos_id = kEos;
  options.pad_id = kPad;
  options.beam_size = beam;
  options.n_best = n_best;
  options.max_length_ratio = 1.0;
  options.max_length_offset = 3;
  return options;
}

}  // namespace qkv::test
