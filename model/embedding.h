// Embeddings: token vectors scaled by sqrt(D) plus position vectors (sinusoidal or learned).
// The token tables themselves are plain torch::nn::Embedding modules owned by the Transformer
// (one shared table when embeddings are tied); this file holds the position part and the sum.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace qkv {

/// The sinusoidal table of "Attention Is All You Need" (section 3.5):
/// table[pos, 2i] = sin(pos / 10000^(2i/D)), table[pos, 2i+1] = cos(pos / 10000^(2i/D)).
/// Returns float [max_positions, d_model]. Throws std::invalid_argument if d_model is odd.
torch::Tensor sinusoidal_positions(int64_t max_positions, int64_t d_model);

struct PositionalEncodingOptions {
  int64_t max_positions = 512;  ///< longest sequence the table covers
  int64_t d_model = 256;        ///< D
  bool learned = false;         ///< learned table (parameter) instead of fixed sinusoids
};

/// Position vectors for positions [start, start + length).
/// Learned: parameter `weight` [max_positions, D]. Sinusoidal: buffer `table` [max_positions, D]
/// (a buffer, not a parameter: it moves with .to(device) and is not trained).
class PositionalEncodingImpl : public torch::nn::Module {
 public:
  explicit PositionalEncodingImpl(const PositionalEncodingOptions& options);

  /// Returns [length, D]. Throws if start + length > max_positions.
  torch::Tensor forward(int64_t start, int64_t length) const;

  const PositionalEncodingOptions& options() const { return options_; }

 private:
  PositionalEncodingOptions options_;
  torch::Tensor table_;  // [max_positions, D]: parameter `weight` or buffer `table`
};
TORCH_MODULE(PositionalEncoding);

/// token_table[tokens] * sqrt(D) + positions. tokens int64 [B, T], token_table [V, D],
/// positions [T, D]. Returns [B, T, D]. The sqrt(D) scale keeps token vectors (initialised
/// with small values) from being drowned by the unit-sized position vectors.
torch::Tensor embed_tokens(const torch::Tensor& tokens,
                           const torch::Tensor& token_table,
                           const torch::Tensor& positions);

}  // namespace qkv
