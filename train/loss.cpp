#include "train/loss.h"

#include <ATen/ATen.h>

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
  const auto log_probs = at::log_softmax(logits.flatten(0, 1), /*dim=*/-1);     // [N, V]
  const auto flat_targets = targets.flatten();                                  // [N]
  const auto keep = flat_targets.ne(pad_id);                                    // [N]
  const auto nll = -log_probs.gather(1, flat_targets.unsqueeze(1)).squeeze(1);  // [N]
  const auto uniform = -log_probs.mean(/*dim=*/-1);                             // [N]
  const auto per_token = nll * (1.0 - epsilon) + uniform * epsilon;             // [N]
  const auto zero = at::zeros({}, per_token.options());
  TokenLoss loss;
  loss.smoothed_sum = at::where(keep, per_token, zero).sum();
  loss.nll_sum = at::where(keep, nll, zero).sum().detach();
  loss.num_tokens = keep.sum();
  return loss;
}

}  // namespace qkv
