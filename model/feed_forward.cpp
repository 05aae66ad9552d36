// Position-wise feed-forward network (see feed_forward.h).
#include "model/feed_forward.h"

#include <stdexcept>
#include <string>

#include "model/dropout.h"

namespace qkv {

FeedForwardImpl::FeedForwardImpl(const FeedForwardOptions& options) : options_(options) {
  if (options.d_model <= 0 || options.d_ff <= 0) {
    throw std::invalid_argument("FeedForward: d_model (" + std::to_string(options.d_model) +
                                ") and d_ff (" + std::to_string(options.d_ff) + ") must be > 0");
  }
  up_proj_ = register_module("up_proj", Linear(options.d_model, options.d_ff));
  down_proj_ = register_module("down_proj", Linear(options.d_ff, options.d_model));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  auto hidden = up_proj_(x);  // [B, T, d_ff]
  if (is_training() && options_.dropout > 0.0) {
    hidden = relu_dropout(hidden, options_.dropout, /*training=*/true);  // one pass, dropout.h
  } else {
    hidden.relu_();  // in place: `hidden` is ours
  }
  return down_proj_(hidden);  // [B, T, D]
}

}  // namespace qkv
