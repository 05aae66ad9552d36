// Fused dropout autograd functions over the loops of vector_math.h (see fused_dropout.h).
#include "model/kernels/fused_dropout.h"

#include <ATen/Parallel.h>

#include "model/kernels/dispatch.h"
#include "model/kernels/vector_math.h"

namespace qkv {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kGrain = 1 << 15;  // elements per parallel chunk

void save_mask(AutogradContext* ctx, double p, uint64_t seed) {
  ctx->saved_data["p"] = p;
  ctx->saved_data["seed"] = static_cast<int64_t>(seed);
}

vecmath::KeepMask saved_mask(AutogradContext* ctx) {
  return vecmath::KeepMask::make(ctx->saved_data["p"].toDouble(),
                                 static_cast<uint64_t>(ctx->saved_data["seed"].toInt()));
}

// out = dropout(in), both contiguous float32 with the same number of elements.
void write_dropout(const torch::Tensor& in, torch::Tensor& out, const vecmath::KeepMask& mask) {
  const float* x = in.data_ptr<float>();
  float* y = out.data_ptr<float>();
  at::parallel_for(0, in.numel(), kGrain, [&](int64_t begin, int64_t end) {
    vecmath::dropout(x + begin, y + begin, end - begin, mask, static_cast<uint64_t>(begin));
  });
}

class DropoutFunction : public torch::autograd::Function<DropoutFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, double p) {
    const auto input = x.contiguous();
    const uint64_t seed = draw_seed();
    auto out = torch::empty_like(input);
    write_dropout(input, out, vecmath::KeepMask::make(p, seed));
    save_mask(ctx, p, seed);
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto grad = grads[0].contiguous();
    auto grad_in = torch::empty_like(grad);
    write_dropout(grad, grad_in, saved_mask(ctx));
    return {grad_in, torch::Tensor()};
  }
};

class AddDropoutFunction : public torch::autograd::Function<AddDropoutFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx,
                               const torch::Tensor& x,
                               const torch::Tensor& y,
                               double p) {
    const auto a = x.contiguous();
    const auto b = y.contiguous();
    const uint64_t seed = draw_seed();
    const auto mask = vecmath::KeepMask::make(p, seed);
    auto out = torch::empty_like(a);
    const float* pa = a.data_ptr<float>();
    const float* pb = b.data_ptr<float>();
    float* po = out.data_ptr<float>();
    at::parallel_for(0, a.numel(), kGrain, [&](int64_t begin, int64_t end) {
      vecmath::add_dropout(
          pa + begin, pb + begin, po + begin, end - begin, mask, static_cast<uint64_t>(begin));
    });
    save_mask(ctx, p, seed);
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto grad = grads[0].contiguous();
    auto grad_y = torch::empty_like(grad);
    write_dropout(grad, grad_y, saved_mask(ctx));
    return {grads[0], grad_y, torch::Tensor()};
  }
};

class ReluDropoutFunction : public torch::autograd::Function<ReluDropoutFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, double p) {
    const auto input = x.contiguous();
    const auto mask = vecmath::KeepMask::make(p, draw_seed());
    auto out = torch::empty_like(input);
    const float* pi = input.data_ptr<float>();
    float* po = out.data_ptr<float>();
    at::parallel_for(0, input.numel(), kGrain, [&](int64_t begin, int64_t end) {
      vecmath::relu_dropout(
          pi + begin, po + begin, end - begin, mask, static_cast<uint64_t>(begin));
    });
    ctx->save_for_backward({out});
    ctx->saved_data["scale"] = static_cast<double>(mask.scale);
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    // Kept positive inputs are exactly the non-zero outputs.
    const auto out = ctx->get_saved_variables()[0];
    const auto grad = grads[0].contiguous();
    auto grad_in = torch::empty_like(grad);
    const auto scale = static_cast<float>(ctx->saved_data["scale"].toDouble());
    const float* pg = grad.data_ptr<float>();
    const float* po = out.data_ptr<float>();
    float* pi = grad_in.data_ptr<float>();
    at::parallel_for(0, grad.numel(), kGrain, [&](int64_t begin, int64_t end) {
      vecmath::relu_dropout_backward(pg + begin, po + begin, pi + begin, end - begin, scale);
    });
    return {grad_in, torch::Tensor()};
  }
};

}  // namespace

bool fused_dropout_supports(const torch::Tensor& x) {
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat32;
}

bool fused_add_dropout_supports(const torch::Tensor& x, const torch::Tensor& y) {
  return fused_dropout_supports(x) && fused_dropout_supports(y) && x.sizes() == y.sizes();
}

torch::Tensor fused_dropout(const torch::Tensor& x, double p) {
  TORCH_CHECK(fused_dropout_supports(x), "fused_dropout: needs a float32 CPU tensor");
  return DropoutFunction::apply(x, p);
}

torch::Tensor fused_add_dropout(const torch::Tensor& x, const torch::Tensor& y, double p) {
  TORCH_CHECK(fused_add_dropout_supports(x, y),
              "fused_add_dropout: needs float32 CPU tensors of one shape, got ",
              x.sizes(),
              " and ",
              y.sizes());
  return AddDropoutFunction::apply(x, y, p);
}

torch::Tensor fused_relu_dropout(const torch::Tensor& x, double p) {
  TORCH_CHECK(fused_dropout_supports(x), "fused_relu_dropout: needs a float32 CPU tensor");
  return ReluDropoutFunction::apply(x, p);
}

}  // namespace qkv
