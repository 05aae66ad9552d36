// Label-smoothed cross-entropy (see loss.h): the definition in LibTorch ops first; when the
// fused kernels are enabled and support the tensors (float32 on the CPU), the same in one pass
// per row with its own backward (model/kernels/fused_loss.h).
#include "train/loss.h"

#include <ATen/ATen.h>

#include <tuple>

#include "model/kernels/dispatch.h"
#include "model/kernels/fused_loss.h"

namespace qkv {

TokenLoss label_smoothed_loss(const torch::Tensor& logits,
                              const torch::Tensor& targets,
                              double epsilon,
                              int64_t pad_id) {
  TORCH_CHECK(logits.dim() == 3 && targets.dim() == 2, "logits [B,T,V] and targets [B,T] expected");
  TORCH_CHECK(logits.size(0) == targets.size(0) && logits.size(1) == targets.size(1),
              "logits and targets disagree on [B, T]: ",
              logits.sizes(),
              " vs ",
              targets.sizes());
  const auto flat_logits = logits.flatten(0, 1);  // [N, V]
  const auto flat_targets = targets.flatten();    // [N]
  const auto keep = flat_targets.ne(pad_id);      // [N]
  TokenLoss loss;
  loss.num_tokens = keep.sum();
  if (!fused_enabled() || !fused_loss_supports(logits, targets)) {
    const auto log_probs = at::log_softmax(flat_logits, /*dim=*/-1);              // [N, V]
    const auto nll = -log_probs.gather(1, flat_targets.unsqueeze(1)).squeeze(1);  // [N]
    const auto uniform = -log_probs.mean(/*dim=*/-1);                             // [N]
    const auto per_token = nll * (1.0 - epsilon) + uniform * epsilon;             // [N]
    const auto zero = at::zeros({}, per_token.options());
    loss.smoothed_sum = at::where(keep, per_token, zero).sum();
    loss.nll_sum = at::where(keep, nll, zero).sum().detach();
    return loss;
  }
  std::tie(loss.smoothed_sum, loss.nll_sum) =
      fused_label_smoothed_sums(flat_logits, flat_targets, epsilon, pad_id);
  return loss;
}

}  // namespace qkv
