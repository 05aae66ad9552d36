// Dropout (see dropout.h): the definition with torch ops first; when the fused kernels are
// enabled and support the tensors, the same in one pass (kernels/fused_dropout.h).
#include "model/dropout.h"

#include "model/kernels/dispatch.h"
#include "model/kernels/fused_dropout.h"

namespace qkv {

torch::Tensor apply_dropout(const torch::Tensor& x, double p, bool training) {
  TORCH_CHECK(p >= 0.0 && p < 1.0, "apply_dropout: p must be in [0, 1), got ", p);
  if (!training || p == 0.0) return x;
  if (!fused_enabled() || !fused_dropout_supports(x)) return torch::dropout(x, p, training);
  return fused_dropout(x, p);
}

torch::Tensor add_dropout(const torch::Tensor& x, const torch::Tensor& y, double p, bool training) {
  TORCH_CHECK(p >= 0.0 && p < 1.0, "add_dropout: p must be in [0, 1), got ", p);
  if (!training || p == 0.0) return x + y;
  if (!fused_enabled() || !fused_add_dropout_supports(x, y)) {
    return x + torch::dropout(y, p, training);
  }
  return fused_add_dropout(x, y, p);
}

torch::Tensor relu_dropout(const torch::Tensor& x, double p, bool training) {
  TORCH_CHECK(p >= 0.0 && p < 1.0, "relu_dropout: p must be in [0, 1), got ", p);
  if (!training || p == 0.0) return torch::relu(x);
  if (!fused_enabled() || !fused_dropout_supports(x)) {
    return torch::dropout(torch::relu(x), p, training);
  }
  return fused_relu_dropout(x, p);
}

}  // namespace qkv
