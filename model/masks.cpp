// Builds the bool keep masks (true = may attend) described in masks.h.
#include "model/masks.h"

namespace qkv {

torch::Tensor make_padding_mask(const torch::Tensor& tokens, int64_t pad_id) {
  TORCH_CHECK(tokens.dim() == 2, "make_padding_mask: tokens must be [B, T], got ", tokens.sizes());
  return tokens.ne(pad_id).unsqueeze(1).unsqueeze(1);  // [B, 1, 1, T]
}

torch::Tensor make_causal_mask(int64_t size, torch::Device device) {
  TORCH_CHECK(size >= 1, "make_causal_mask: size must be >= 1, got ", size);
  auto options = torch::TensorOptions().dtype(torch::kBool).device(device);
  return torch::ones({size, size}, options).tril().view({1, 1, size, size});  // [1, 1, T, T]
}

torch::Tensor make_target_mask(const torch::Tensor& tokens, int64_t pad_id) {
  auto padding = make_padding_mask(tokens, pad_id);                    // [B, 1, 1, T]
  return padding & make_causal_mask(tokens.size(1), tokens.device());  // [B, 1, T, T]
}

}  // namespace qkv
