// Test helpers for model/ tests: small configs and random token batches.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "model/config.h"
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

}  // namespace qkv::test
