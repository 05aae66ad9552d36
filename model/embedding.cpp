// Position tables and the scaled token + position sum (see embedding.h).
#include "model/embedding.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace qkv {

torch::Tensor sinusoidal_positions(int64_t max_positions, int64_t d_model) {
  if (d_model <= 0 || d_model % 2 != 0 || max_positions <= 0) {
    throw std::invalid_argument("sinusoidal_positions: d_model must be even and > 0 (got " +
                                std::to_string(d_model) + ") and max_positions > 0 (got " +
                                std::to_string(max_positions) + ")");
  }
  // Computed in float64, stored in float32: the angles of far positions keep full precision.
  auto position = torch::arange(max_positions, torch::kFloat64).unsqueeze(1);  // [P, 1]
  auto frequency = torch::exp(torch::arange(0, d_model, 2, torch::kFloat64) *
                              (-std::log(10000.0) / static_cast<double>(d_model)));  // [D/2]
  auto angle = position * frequency;                                                 // [P, D/2]
  // Interleave: even columns sin, odd columns cos.
  return torch::stack({torch::sin(angle), torch::cos(angle)}, /*dim=*/-1)  // [P, D/2, 2]
      .view({max_positions, d_model})
      .to(torch::kFloat32);  // [P, D]
}

PositionalEncodingImpl::PositionalEncodingImpl(const PositionalEncodingOptions& options)
    : options_(options) {
  if (options.max_positions <= 0 || options.d_model <= 0) {
    throw std::invalid_argument("PositionalEncoding: max_positions and d_model must be > 0");
  }
  if (options.learned) {
    table_ = register_parameter("weight", torch::empty({options.max_positions, options.d_model}));
    torch::nn::init::xavier_uniform_(table_);
  } else {
    table_ = register_buffer("table", sinusoidal_positions(options.max_positions, options.d_model));
  }
}

torch::Tensor PositionalEncodingImpl::forward(int64_t start, int64_t length) const {
  TORCH_CHECK(start >= 0 && length >= 0 && start + length <= options_.max_positions,
              "PositionalEncoding: positions [",
              start,
              ", ",
              start + length,
              ") exceed max_positions ",
              options_.max_positions,
              "; raise model.max_positions or shorten the input");
  return table_.narrow(/*dim=*/0, start, length);  // [length, D]
}

torch::Tensor embed_tokens(const torch::Tensor& tokens,
                           const torch::Tensor& token_table,
                           const torch::Tensor& positions) {
  TORCH_CHECK(tokens.dim() == 2, "embed_tokens: tokens must be [B, T], got ", tokens.sizes());
  const double scale = std::sqrt(static_cast<double>(token_table.size(1)));
  auto vectors = torch::embedding(token_table, tokens);    // [B, T, D]
  return torch::add(positions, vectors, /*alpha=*/scale);  // [B, T, D]
}

}  // namespace qkv
