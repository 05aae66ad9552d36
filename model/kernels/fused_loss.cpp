// The fused label-smoothed loss: one pass per row with its own backward (see fused_loss.h).
#include "model/kernels/fused_loss.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "model/kernels/vector_math.h"

namespace qkv {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Per row n of logits x [N, V] with target t (log-sum-exp lse = max + log sum exp(x - max)):
//   nll = lse - x[t],  uniform = lse - mean(x),  loss = (1 - eps) nll + eps uniform
//   d loss / d x[c] = softmax(x)[c] - eps / V - (1 - eps) [c == t]
// Forward keeps exp(x - max) [N, V] and 1 / sum per row; backward turns that buffer into the
// gradient in place (so backward may run once per forward).
class SmoothedLossFunction : public torch::autograd::Function<SmoothedLossFunction> {
 public:
  // logits [N, V] contiguous float32, targets [N] int64. Returns {smoothed_sum, nll_sum}.
  static variable_list forward(AutogradContext* ctx,
                               const torch::Tensor& logits,
                               const torch::Tensor& targets,
                               double epsilon,
                               int64_t pad_id) {
    const int64_t rows = logits.size(0), vocab = logits.size(1);
    auto exps = torch::empty_like(logits);                       // [N, V]
    auto inverse_sums = torch::empty({rows}, logits.options());  // [N]; 0 marks padding
    std::vector<double> smoothed(static_cast<size_t>(rows)), nll(static_cast<size_t>(rows));
    const float* x = logits.data_ptr<float>();
    const int64_t* t = targets.data_ptr<int64_t>();
    float* e = exps.data_ptr<float>();
    float* inv = inverse_sums.data_ptr<float>();
    at::parallel_for(0, rows, /*grain_size=*/16, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const auto row = static_cast<size_t>(n);
        if (t[n] == pad_id) {
          inv[n] = 0.0F;
          smoothed[row] = nll[row] = 0.0;
          continue;
        }
        const float* xr = x + n * vocab;
        const float top = vecmath::max_of(xr, vocab);
        const double sum = vecmath::exp_shifted(xr, top, e + n * vocab, vocab);
        const double lse = top + std::log(sum);
        const double mean = vecmath::sum_of(xr, vocab) / static_cast<double>(vocab);
        inv[n] = static_cast<float>(1.0 / sum);
        nll[row] = lse - xr[t[n]];
        smoothed[row] = (1.0 - epsilon) * nll[row] + epsilon * (lse - mean);
      }
    });
    double smoothed_sum = 0, nll_sum = 0;  // in row order: the same result for any thread count
    for (int64_t n = 0; n < rows; ++n) {
      smoothed_sum += smoothed[static_cast<size_t>(n)];
      nll_sum += nll[static_cast<size_t>(n)];
    }
    ctx->saved_data["exps"] = exps;
    ctx->saved_data["inverse_sums"] = inverse_sums;
    ctx->saved_data["targets"] = targets;
    ctx->saved_data["epsilon"] = epsilon;
    ctx->saved_data["consumed"] = false;
    auto smoothed_total = torch::tensor(static_cast<float>(smoothed_sum), logits.options());
    auto nll_total = torch::tensor(static_cast<float>(nll_sum), logits.options());
    ctx->mark_non_differentiable({nll_total});
    return {smoothed_total, nll_total};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!ctx->saved_data["consumed"].toBool(),
                "label_smoothed_loss: backward can run only once per forward (no retain_graph)");
    ctx->saved_data["consumed"] = true;
    auto grad = ctx->saved_data["exps"].toTensor();  // [N, V], becomes the gradient
    ctx->saved_data.erase("exps");
    const auto inverse_sums = ctx->saved_data["inverse_sums"].toTensor();
    const auto targets = ctx->saved_data["targets"].toTensor();
    const double epsilon = ctx->saved_data["epsilon"].toDouble();
    const auto scale = grads[0].item<float>();  // d total / d smoothed_sum
    const int64_t rows = grad.size(0), vocab = grad.size(1);
    float* g = grad.data_ptr<float>();
    const float* inv = inverse_sums.data_ptr<float>();
    const int64_t* t = targets.data_ptr<int64_t>();
    const auto spread = static_cast<float>(scale * epsilon / static_cast<double>(vocab));
    const auto on_target = static_cast<float>(scale * (1.0 - epsilon));
    at::parallel_for(0, rows, /*grain_size=*/16, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        float* row = g + n * vocab;
        if (inv[n] == 0.0F) {  // padding: forward never wrote this row, so it holds old memory
          std::fill(row, row + vocab, 0.0F);  // (0 * garbage is NaN when the garbage is inf)
          continue;
        }
        vecmath::scale_shift(row, vocab, scale * inv[n], -spread);
        row[t[n]] -= on_target;
      }
    });
    return {grad, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool fused_loss_supports(const torch::Tensor& logits, const torch::Tensor& targets) {
  return logits.device().is_cpu() && logits.scalar_type() == torch::kFloat32 &&
         targets.device().is_cpu() && targets.scalar_type() == torch::kInt64;
}

std::pair<torch::Tensor, torch::Tensor> fused_label_smoothed_sums(const torch::Tensor& logits,
                                                                  const torch::Tensor& targets,
                                                                  double epsilon,
                                                                  int64_t pad_id) {
  TORCH_CHECK(fused_loss_supports(logits, targets) && logits.dim() == 2 && targets.dim() == 1 &&
                  logits.size(0) == targets.size(0),
              "fused_label_smoothed_sums: float32 CPU logits [N, V] and int64 targets [N] "
              "expected, got ",
              logits.sizes(),
              " and ",
              targets.sizes());
  const int64_t vocab = logits.size(1);
  const auto flat_targets = targets.contiguous();  // [N]
  if (flat_targets.numel() > 0) {
    // The kernel indexes rows by target id: an id out of range would read past the row.
    const auto ids = flat_targets.masked_select(flat_targets.ne(pad_id));
    TORCH_CHECK(
        ids.numel() == 0 || (ids.min().item<int64_t>() >= 0 && ids.max().item<int64_t>() < vocab),
        "label_smoothed_loss: target ids must be in [0, ",
        vocab,
        ")");
  }
  const auto outputs =
      SmoothedLossFunction::apply(logits.contiguous(), flat_targets, epsilon, pad_id);
  return {outputs[0], outputs[1].detach()};
}

}  // namespace qkv
