// Encoder layer and encoder stack (see encoder.h).
#include "model/encoder.h"

#include <stdexcept>
#include <string>

namespace qkv {

EncoderLayerImpl::EncoderLayerImpl(const LayerOptions& options) : options_(options) {
  MultiHeadAttentionOptions attention;
  attention.d_model = options.d_model;
  attention.num_heads = options.num_heads;
  attention.dropout = options.attention_dropout;
  self_attn_ = register_module("self_attn", MultiHeadAttention(attention));
  self_attn_norm_ = register_module("self_attn_norm", make_layer_norm(options.d_model));
  feed_forward_ = register_module(
      "feed_forward",
      FeedForward(FeedForwardOptions{options.d_model, options.d_ff, options.dropout}));
  feed_forward_norm_ = register_module("feed_forward_norm", make_layer_norm(options.d_model));
}

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& src_keep) {
  auto h = residual(x, self_attn_norm_, options_, is_training(), [&](const torch::Tensor& in) {
    return self_attn_(in, in, in, src_keep);  // [B, S, D]
  });
  return residual(h, feed_forward_norm_, options_, is_training(), [&](const torch::Tensor& in) {
    return feed_forward_(in);  // [B, S, D]
  });
}

EncoderImpl::EncoderImpl(const LayerOptions& options, int64_t num_layers) {
  if (num_layers < 1) {
    throw std::invalid_argument("Encoder: needs at least one layer, got " +
                                std::to_string(num_layers));
  }
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < num_layers; ++i) {
    layers_->push_back(EncoderLayer(options));
  }
  if (options.norm == NormPosition::kPre) {
    // Pre-norm layers leave the residual stream un-normalised; normalise it once at the end.
    final_norm_ = register_module("final_norm", make_layer_norm(options.d_model));
  }
}

torch::Tensor EncoderImpl::forward(const torch::Tensor& x, const torch::Tensor& src_keep) {
  auto h = x;  // [B, S, D]
  for (int64_t i = 0; i < num_layers(); ++i) {
    h = layer(i).forward(h, src_keep);  // [B, S, D]
  }
  return final_norm_.is_empty() ? h : final_norm_(h);  // [B, S, D]
}

void EncoderImpl::set_recorder(AttentionRecorder* recorder) {
  for (int64_t i = 0; i < num_layers(); ++i) {
    layer(i).self_attn()->set_recorder(recorder, "encoder." + std::to_string(i) + ".self_attn");
  }
}

}  // namespace qkv
