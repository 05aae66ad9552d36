// Per-(sentence, head) attention with direct sgemm calls (see attention_kernel.h).
//
// Forward, for each (b, h), in row-major terms (scale = 1 / sqrt(Dh)):
//   P  = softmax(scale * Q K^T, masked)      [Tq, Tk]  (saved; the recorded weights)
//   Pd = dropout(P)                          [Tq, Tk]  (mask regenerated in backward)
//   O  = Pd V                                [Tq, Dh]  written into out[b, :, h*Dh : (h+1)*Dh]
// Backward, from dO:
//   dPd = dO V^T,  dV = Pd^T dO,  dP = dropout(dPd),  dS = P * (dP - rowsum(P * dP)),
//   dQ = scale * dS K,  dK = scale * dS^T Q.
#include "model/kernels/attention_kernel.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>
#include <vector>

#include "model/kernels/bf16_rows.h"
#include "model/kernels/dispatch.h"
#include "model/kernels/vector_math.h"

// The Fortran BLAS that LibTorch itself calls (OpenBLAS on Debian). Weak: resolved at run time
// from libtorch_cpu's own dependency; null if this LibTorch has none, and then the kernel is
// not used.
extern "C" void sgemm_(const char* transa,
                       const char* transb,
                       const int* m,
                       const int* n,
                       const int* k,
                       const float* alpha,
                       const float* a,
                       const int* lda,
                       const float* b,
                       const int* ldb,
                       const float* beta,
                       float* c,
                       const int* ldc) __attribute__((weak));

namespace qkv {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Row-major C[M, N] = alpha * op(A) op(B) (C overwritten), op = transpose when the flag is
// set. Column-major BLAS on row-major data computes C^T = op(B)^T op(A)^T: swap the operands.
// Called only by the three named products below.
void gemm(bool trans_a,
          bool trans_b,
          int m,
          int n,
          int k,
          float alpha,
          const float* a,
          int lda,
          const float* b,
          int ldb,
          float* c,
          int ldc) {
  const char ta = trans_a ? 'T' : 'N';
  const char tb = trans_b ? 'T' : 'N';
  const float beta = 0.0F;
  sgemm_(&tb, &ta, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
}

// The three matrix products of one (sentence, head) pair, named for what they compute. Rows
// are q/k/v-like [T, Dh] matrices with a row stride (`Rows`); weights-like matrices [Tq, Tk]
// are contiguous (row stride Tk).
struct PairDims {
  int tq, tk, dh;
};

struct Rows {
  const float* data;
  int ld;  // row stride
};

struct OutRows {
  float* data;
  int ld;  // row stride
};

// out[Tq, Tk] = alpha * a[Tq, Dh] b[Tk, Dh]^T: the scores Q K^T, and dPd = dO V^T in backward.
void dot_products(const PairDims& d, float alpha, Rows a, Rows b, float* out) {
  gemm(false, true, d.tq, d.tk, d.dh, alpha, a.data, a.ld, b.data, b.ld, out, d.tk);
}

// out[Tq, Dh] = alpha * weights[Tq, Tk] rows[Tk, Dh]: the output P V, and dQ = dS K in backward.
void weighted_sum(const PairDims& d, float alpha, const float* weights, Rows rows, OutRows out) {
  gemm(false, false, d.tq, d.dh, d.tk, alpha, weights, d.tk, rows.data, rows.ld, out.data, out.ld);
}

// out[Tk, Dh] = alpha * weights[Tq, Tk]^T rows[Tq, Dh]: dV = Pd^T dO and dK = dS^T Q in backward.
void transposed_weighted_sum(
    const PairDims& d, float alpha, const float* weights, Rows rows, OutRows out) {
  gemm(true, false, d.tk, d.dh, d.tq, alpha, weights, d.tk, rows.data, rows.ld, out.data, out.ld);
}

// A [B, H, T, Dh] tensor with unit stride along Dh: matrix (b, h) is T x Dh with row stride ld.
// T = float, or uint16_t for bfloat16 keys and values.
template <class T>
struct HeadsOf {
  const T* data;
  int64_t batch_stride, head_stride;
  int ld;

  explicit HeadsOf(const torch::Tensor& t)
      : data(static_cast<const T*>(t.data_ptr())),
        batch_stride(t.stride(0)),
        head_stride(t.stride(1)),
        // One row: any leading dimension >= Dh is valid, and BLAS insists on that.
        ld(static_cast<int>(t.size(2) == 1 ? t.size(3) : t.stride(2))) {}
  const T* at(int64_t b, int64_t h) const { return data + b * batch_stride + h * head_stride; }
  Rows rows(int64_t b, int64_t h) const { return {at(b, h), ld}; }
};
using Heads = HeadsOf<float>;

// The keep mask expanded (stride 0 where broadcast) to [B, H, Tq, Tk]; empty = keep all.
struct Mask {
  const bool* data = nullptr;
  int64_t sb = 0, sh = 0, sq = 0, sk = 0;

  Mask() = default;
  Mask(const torch::Tensor& expanded)
      : data(expanded.data_ptr<bool>()),
        sb(expanded.stride(0)),
        sh(expanded.stride(1)),
        sq(expanded.stride(2)),
        sk(expanded.stride(3)) {}
};

// A head's rows of scores [Tq, Tk] -> softmax in place, masked positions exactly 0.
void masked_softmax_rows(
    float* scores, int64_t tq, int64_t tk, const Mask& mask, int64_t b, int64_t h) {
  constexpr float kMinusInf = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < tq; ++i) {
    float* row = scores + i * tk;
    if (mask.data != nullptr) {
      const bool* keep = mask.data + b * mask.sb + h * mask.sh + i * mask.sq;
      for (int64_t j = 0; j < tk; ++j) {
        if (!keep[j * mask.sk]) row[j] = kMinusInf;
      }
    }
    const float top = vecmath::max_of(row, tk);
    const auto inverse = static_cast<float>(1.0 / vecmath::exp_shifted(row, top, row, tk));
    for (int64_t j = 0; j < tk; ++j) row[j] *= inverse;
  }
}

struct Shapes {
  int64_t batch, heads, tq, tk, dh;
  int64_t width() const { return heads * dh; }
  int64_t pair_size() const { return tq * tk; }  // weights of one (b, h)
  PairDims dims() const {
    return {static_cast<int>(tq), static_cast<int>(tk), static_cast<int>(dh)};
  }
};

Shapes shapes_of(const torch::Tensor& q, const torch::Tensor& k) {
  return {q.size(0), q.size(1), q.size(2), k.size(2), q.size(3)};
}

// Grain of at::parallel_for over (b, h) pairs: about 64k multiply-adds per task.
int64_t pair_grain(const Shapes& s) {
  return std::max<int64_t>(1, 65536 / std::max<int64_t>(1, s.tq * s.tk * s.dh));
}

torch::Tensor forward_pass(const torch::Tensor& q,
                           const torch::Tensor& k,
                           const torch::Tensor& v,
                           const Mask& mask,
                           const vecmath::KeepMask* drop,
                           torch::Tensor& weights) {
  const Shapes s = shapes_of(q, k);
  const PairDims dims = s.dims();
  const auto scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.dh)));
  weights = torch::empty({s.batch, s.heads, s.tq, s.tk}, q.options());  // [B, H, Tq, Tk]
  auto out = torch::empty({s.batch, s.tq, s.width()}, q.options());     // [B, Tq, H*Dh]
  const Heads qh(q), kh(k), vh(v);
  float* w = weights.data_ptr<float>();
  float* o = out.data_ptr<float>();
  const int ld_out = static_cast<int>(s.width());
  at::parallel_for(0, s.batch * s.heads, pair_grain(s), [&](int64_t begin, int64_t end) {
    std::vector<float> dropped(drop != nullptr ? static_cast<size_t>(s.pair_size()) : 0);
    for (int64_t pair = begin; pair < end; ++pair) {
      const int64_t b = pair / s.heads, h = pair % s.heads;
      float* p = w + pair * s.pair_size();
      dot_products(dims, scale, qh.rows(b, h), kh.rows(b, h), p);  // scores [Tq, Tk]
      masked_softmax_rows(p, s.tq, s.tk, mask, b, h);
      const float* pv = p;
      if (drop != nullptr) {
        vecmath::dropout(
            p, dropped.data(), s.pair_size(), *drop, static_cast<uint64_t>(pair * s.pair_size()));
        pv = dropped.data();
      }
      weighted_sum(dims, 1.0F, pv, vh.rows(b, h), {o + b * s.tq * s.width() + h * s.dh, ld_out});
    }
  });
  return out;
}

// Inference over keys and values stored in bfloat16 (the decoding caches): per (b, h) and
// query row, the scores as bf16 dot products, the masked softmax, and the weighted sum of the
// value rows, skipping keys of weight 0 (masked ones). Float32 arithmetic throughout; the rows
// are read once each, at half the bytes of float32, which is what a decoding step waits on.
torch::Tensor forward_bf16(const torch::Tensor& q,
                           const torch::Tensor& k,
                           const torch::Tensor& v,
                           const Mask& mask,
                           torch::Tensor* weights) {
  const Shapes s = shapes_of(q, k);
  const auto scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.dh)));
  auto out = torch::zeros({s.batch, s.tq, s.width()}, q.options());  // [B, Tq, H*Dh], summed into
  if (weights != nullptr) *weights = torch::empty({s.batch, s.heads, s.tq, s.tk}, q.options());
  float* w = weights != nullptr ? weights->data_ptr<float>() : nullptr;
  const Heads qh(q);
  const HeadsOf<uint16_t> kh(k), vh(v);
  float* o = out.data_ptr<float>();
  at::parallel_for(0, s.batch * s.heads, pair_grain(s), [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(w == nullptr ? static_cast<size_t>(s.pair_size()) : 0);
    for (int64_t pair = begin; pair < end; ++pair) {
      const int64_t b = pair / s.heads, h = pair % s.heads;
      float* p = w != nullptr ? w + pair * s.pair_size() : scratch.data();  // [Tq, Tk]
      if (pair + 1 < end) {
        const int64_t next_b = (pair + 1) / s.heads, next_h = (pair + 1) % s.heads;
        bf16::prefetch_rows(kh.at(next_b, next_h), kh.ld, s.tk, s.dh);
        bf16::prefetch_rows(vh.at(next_b, next_h), vh.ld, s.tk, s.dh);
      }
      for (int64_t i = 0; i < s.tq; ++i) {
        float* scores = p + i * s.tk;
        bf16::dot_rows(qh.at(b, h) + i * qh.ld, kh.at(b, h), kh.ld, s.tk, s.dh, scores);
        for (int64_t j = 0; j < s.tk; ++j) scores[j] *= scale;
      }
      masked_softmax_rows(p, s.tq, s.tk, mask, b, h);
      for (int64_t i = 0; i < s.tq; ++i) {
        float* row = o + (b * s.tq + i) * s.width() + h * s.dh;
        bf16::add_weighted_rows(p + i * s.tk, vh.at(b, h), vh.ld, s.tk, s.dh, row);
      }
    }
  });
  return out;
}

// Softmax backward over the rows of one pair, in place: dS = P * (dP - sum_j P dP).
void softmax_backward_rows(const float* p, float* dp, int64_t tq, int64_t tk) {
  for (int64_t i = 0; i < tq; ++i) {
    const float* prow = p + i * tk;
    float* drow = dp + i * tk;
    double dot = 0;
    for (int64_t j = 0; j < tk; ++j) dot += static_cast<double>(prow[j]) * drow[j];
    const auto centre = static_cast<float>(dot);
    for (int64_t j = 0; j < tk; ++j) drow[j] = prow[j] * (drow[j] - centre);
  }
}

// Everything backward reads and writes; pair() does the work of one (b, h) pair.
struct BackwardPass {
  Shapes s;
  float scale;                    // 1 / sqrt(Dh)
  Heads q, k, v;                  // [B, H, T, Dh] views
  const float* grad_out;          // [B, Tq, H*Dh]
  const float* weights;           // [B, H, Tq, Tk], before dropout
  const vecmath::KeepMask* drop;  // null: no dropout
  float* grad_q;                  // [B, Tq, H, Dh]
  float* grad_k;                  // [B, Tk, H, Dh]
  float* grad_v;                  // [B, Tk, H, Dh]

  // dp and dropped: scratch of one pair's size (dropped only used with dropout).
  void pair(int64_t index, std::vector<float>& dp, std::vector<float>& dropped) const {
    const int64_t b = index / s.heads, h = index % s.heads;
    const PairDims dims = s.dims();
    const int ld = static_cast<int>(s.width());
    const float* p = weights + index * s.pair_size();
    const Rows g{grad_out + b * s.tq * s.width() + h * s.dh, ld};
    const auto offset = static_cast<uint64_t>(index * s.pair_size());
    const float* pd = p;
    if (drop != nullptr) {
      vecmath::dropout(p, dropped.data(), s.pair_size(), *drop, offset);
      pd = dropped.data();
    }
    dot_products(dims, 1.0F, g, v.rows(b, h), dp.data());                 // dPd = dO V^T
    transposed_weighted_sum(dims, 1.0F, pd, g, out(grad_v, s.tk, b, h));  // dV = Pd^T dO
    if (drop != nullptr) {
      vecmath::dropout(dp.data(), dp.data(), s.pair_size(), *drop, offset);  // dP
    }
    softmax_backward_rows(p, dp.data(), s.tq, s.tk);                              // dS
    weighted_sum(dims, scale, dp.data(), k.rows(b, h), out(grad_q, s.tq, b, h));  // dQ = dS K
    transposed_weighted_sum(
        dims, scale, dp.data(), q.rows(b, h), out(grad_k, s.tk, b, h));  // dK = dS^T Q
  }

  // Rows of pair (b, h) in a gradient stored as [B, T, H, Dh].
  OutRows out(float* grad, int64_t t, int64_t b, int64_t h) const {
    return {grad + b * t * s.width() + h * s.dh, static_cast<int>(s.width())};
  }
};

// The keep mask as the kernels read it; `expanded` holds the broadcast view it points into. An
// empty tensor stands for "no mask" (custom autograd functions take no undefined tensors).
Mask expand_mask(const torch::Tensor& keep_mask, const Shapes& s, torch::Tensor& expanded) {
  if (keep_mask.numel() == 0) return {};
  expanded = keep_mask.expand({s.batch, s.heads, s.tq, s.tk});
  return Mask(expanded);
}

class AttentionFunction : public torch::autograd::Function<AttentionFunction> {
 public:
  // Returns {out [B, Tq, H*Dh], weights [B, H, Tq, Tk]}.
  static variable_list forward(AutogradContext* ctx,
                               const torch::Tensor& q,
                               const torch::Tensor& k,
                               const torch::Tensor& v,
                               const torch::Tensor& keep_mask,
                               double dropout) {
    torch::Tensor expanded;
    const Mask mask = expand_mask(keep_mask, shapes_of(q, k), expanded);
    const uint64_t seed = dropout > 0.0 ? draw_seed() : 0;
    const auto drop = vecmath::KeepMask::make(dropout, seed);
    torch::Tensor weights;
    auto out = forward_pass(q, k, v, mask, dropout > 0.0 ? &drop : nullptr, weights);
    ctx->save_for_backward({q, k, v});
    ctx->saved_data["weights"] = weights;
    ctx->saved_data["dropout"] = dropout;
    ctx->saved_data["seed"] = static_cast<int64_t>(seed);
    ctx->mark_non_differentiable({weights});
    return {out, weights};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &q = saved[0], &k = saved[1], &v = saved[2];
    const auto weights = ctx->saved_data["weights"].toTensor();
    const double dropout = ctx->saved_data["dropout"].toDouble();
    const auto drop =
        vecmath::KeepMask::make(dropout, static_cast<uint64_t>(ctx->saved_data["seed"].toInt()));
    const Shapes s = shapes_of(q, k);
    const auto grad_out = grads[0].contiguous();  // [B, Tq, H*Dh]
    // Gradients in [B, T, H, Dh] storage, returned as [B, H, T, Dh] views.
    auto grad_q = torch::empty({s.batch, s.tq, s.heads, s.dh}, q.options());
    auto grad_k = torch::empty({s.batch, s.tk, s.heads, s.dh}, q.options());
    auto grad_v = torch::empty({s.batch, s.tk, s.heads, s.dh}, q.options());
    const BackwardPass pass{s,
                            static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.dh))),
                            Heads(q),
                            Heads(k),
                            Heads(v),
                            grad_out.data_ptr<float>(),
                            weights.data_ptr<float>(),
                            dropout > 0.0 ? &drop : nullptr,
                            grad_q.data_ptr<float>(),
                            grad_k.data_ptr<float>(),
                            grad_v.data_ptr<float>()};
    at::parallel_for(0, s.batch * s.heads, pair_grain(s), [&](int64_t begin, int64_t end) {
      std::vector<float> dp(static_cast<size_t>(s.pair_size()));
      std::vector<float> dropped(dropout > 0.0 ? static_cast<size_t>(s.pair_size()) : 0);
      for (int64_t pair = begin; pair < end; ++pair) pass.pair(pair, dp, dropped);
    });
    return {grad_q.transpose(1, 2),
            grad_k.transpose(1, 2),
            grad_v.transpose(1, 2),
            torch::Tensor(),
            torch::Tensor()};
  }
};

// q, k, v as the kernel's Heads view needs them: unit stride along Dh, rows not overlapping.
torch::Tensor unit_inner_stride(const torch::Tensor& t) {
  const bool usable = t.stride(3) == 1 && (t.size(2) == 1 || t.stride(2) >= t.size(3));
  return usable ? t : t.contiguous();
}

}  // namespace

bool attention_kernel_supports(const torch::Tensor& q,
                               const torch::Tensor& k,
                               const torch::Tensor& v) {
  const auto fits = [](const torch::Tensor& t, torch::ScalarType type) {
    return t.defined() && t.dim() == 4 && t.device().is_cpu() && t.scalar_type() == type;
  };
  if (!fits(q, torch::kFloat32)) return false;
  if (fits(k, torch::kBFloat16) && fits(v, torch::kBFloat16)) return true;  // inference only
  return sgemm_ != nullptr && fits(k, torch::kFloat32) && fits(v, torch::kFloat32);
}

torch::Tensor attention_kernel(const torch::Tensor& q,
                               const torch::Tensor& k,
                               const torch::Tensor& v,
                               const torch::Tensor& keep_mask,
                               double dropout,
                               bool training,
                               torch::Tensor* weights) {
  TORCH_CHECK(attention_kernel_supports(q, k, v),
              "attention_kernel: needs CPU tensors [B, H, T, Dh]: q float32, k and v float32 "
              "(with a BLAS) or bfloat16");
  TORCH_CHECK(k.sizes() == v.sizes() && q.size(0) == k.size(0) && q.size(1) == k.size(1) &&
                  q.size(3) == k.size(3),
              "attention_kernel: q [B, H, Tq, Dh] and k, v [B, H, Tk, Dh] expected, got ",
              q.sizes(),
              ", ",
              k.sizes(),
              ", ",
              v.sizes());
  TORCH_CHECK(!keep_mask.defined() || keep_mask.scalar_type() == torch::kBool,
              "attention_kernel: keep_mask must be bool");
  const double p = training ? dropout : 0.0;
  // Custom autograd functions take no undefined tensors: an empty one means "no mask".
  const auto mask =
      keep_mask.defined() ? keep_mask : torch::empty({0}, q.options().dtype(torch::kBool));
  if (k.scalar_type() == torch::kBFloat16) {
    TORCH_CHECK(p == 0.0 && !(torch::GradMode::is_enabled() && q.requires_grad()),
                "attention_kernel: bfloat16 keys and values are for inference (no dropout, no "
                "gradients)");
    torch::Tensor expanded;
    const auto inner = unit_inner_stride(q), keys = unit_inner_stride(k);
    return forward_bf16(inner,
                        keys,
                        unit_inner_stride(v),
                        expand_mask(mask, shapes_of(inner, keys), expanded),
                        weights);
  }
  auto outputs = AttentionFunction::apply(
      unit_inner_stride(q), unit_inner_stride(k), unit_inner_stride(v), mask, p);
  if (weights != nullptr) *weights = outputs[1];
  return outputs[0];
}

}  // namespace qkv
