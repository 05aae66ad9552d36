// Decoder layer, decoder stack and incremental-decoding state (see decoder.h).
#include "model/decoder.h"

#include <stdexcept>
#include <string>

namespace qkv {

void DecoderState::reorder(const torch::Tensor& index) {
  reorder_target(index);
  src_keep = src_keep.index_select(/*dim=*/0, index);  // [B', 1, 1, S]
  for (auto& memory : cross_attn) {
    memory.k = memory.k.index_select(/*dim=*/0, index);  // [B', H, S, Dh]
    memory.v = memory.v.index_select(/*dim=*/0, index);  // [B', H, S, Dh]
  }
}

void DecoderState::reorder_target(const torch::Tensor& index) {
  TORCH_CHECK(index.dim() == 1 && index.scalar_type() == torch::kLong,
              "DecoderState::reorder: index must be int64 [B'], got ",
              index.sizes(),
              " ",
              index.scalar_type());
  for (auto& cache : self_attn) {
    cache.reorder(index);
  }
}

DecoderLayerImpl::DecoderLayerImpl(const LayerOptions& options) : options_(options) {
  MultiHeadAttentionOptions attention;
  attention.d_model = options.d_model;
  attention.num_heads = options.num_heads;
  attention.dropout = options.attention_dropout;
  self_attn_ = register_module("self_attn", MultiHeadAttention(attention));
  self_attn_norm_ = register_module("self_attn_norm", make_layer_norm(options.d_model));
  cross_attn_ = register_module("cross_attn", MultiHeadAttention(attention));
  cross_attn_norm_ = register_module("cross_attn_norm", make_layer_norm(options.d_model));
  feed_forward_ = register_module(
      "feed_forward",
      FeedForward(FeedForwardOptions{options.d_model, options.d_ff, options.dropout}));
  feed_forward_norm_ = register_module("feed_forward_norm", make_layer_norm(options.d_model));
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& y,
                                        const torch::Tensor& memory,
                                        const torch::Tensor& src_keep,
                                        const torch::Tensor& tgt_keep) {
  const bool training = is_training();
  auto h = residual(y, self_attn_norm_, options_, training, [&](const torch::Tensor& in) {
    return self_attn_(in, in, in, tgt_keep);  // [B, T, D]
  });
  // Cross-attention: queries from the target stream, keys and values from the encoder memory.
  h = residual(h, cross_attn_norm_, options_, training, [&](const torch::Tensor& in) {
    return cross_attn_(in, memory, memory, src_keep);  // [B, T, D]
  });
  return residual(h, feed_forward_norm_, options_, training, [&](const torch::Tensor& in) {
    return feed_forward_(in);  // [B, T, D]
  });
}

torch::Tensor DecoderLayerImpl::forward_step(const torch::Tensor& y,
                                             KeyValueCache& self_cache,
                                             const KeyValue& memory,
                                             const torch::Tensor& src_keep) {
  const bool training = is_training();
  // One new position attends to all cached ones and itself: no causal mask needed.
  auto h = residual(y, self_attn_norm_, options_, training, [&](const torch::Tensor& in) {
    return self_attn_->forward_cached(in, self_cache);  // [B, 1, D]
  });
  h = residual(h, cross_attn_norm_, options_, training, [&](const torch::Tensor& in) {
    return cross_attn_->forward_projected(in, memory, src_keep);  // [B, 1, D]
  });
  return residual(h, feed_forward_norm_, options_, training, [&](const torch::Tensor& in) {
    return feed_forward_(in);  // [B, 1, D]
  });
}

DecoderImpl::DecoderImpl(const LayerOptions& options, int64_t num_layers) {
  if (num_layers < 1) {
    throw std::invalid_argument("Decoder: needs at least one layer, got " +
                                std::to_string(num_layers));
  }
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < num_layers; ++i) {
    layers_->push_back(DecoderLayer(options));
  }
  if (options.norm == NormPosition::kPre) {
    // Pre-norm layers leave the residual stream un-normalised; normalise it once at the end.
    final_norm_ = register_module("final_norm", make_layer_norm(options.d_model));
  }
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& y,
                                   const torch::Tensor& memory,
                                   const torch::Tensor& src_keep,
                                   const torch::Tensor& tgt_keep) {
  auto h = y;  // [B, T, D]
  for (int64_t i = 0; i < num_layers(); ++i) {
    h = layer(i).forward(h, memory, src_keep, tgt_keep);  // [B, T, D]
  }
  return final_norm_.is_empty() ? h : final_norm_(h);  // [B, T, D]
}

DecoderState DecoderImpl::start(const torch::Tensor& memory, const torch::Tensor& src_keep) {
  TORCH_CHECK(memory.dim() == 3 && src_keep.dim() == 4 && src_keep.size(0) == memory.size(0),
              "Decoder::start: memory must be [B, S, D] and src_keep [B, 1, 1, S], got ",
              memory.sizes(),
              " and ",
              src_keep.sizes());
  DecoderState state;
  state.src_keep = src_keep;
  state.self_attn.reserve(static_cast<size_t>(num_layers()));
  state.cross_attn.reserve(static_cast<size_t>(num_layers()));
  for (int64_t i = 0; i < num_layers(); ++i) {
    state.self_attn.emplace_back(layer(i).self_attn()->cache_dtype());
    // The memory does not change while decoding: project its keys and values once.
    auto& cross = layer(i).cross_attn();
    state.cross_attn.push_back(
        cross->project_key_value(memory, memory).to(cross->cache_dtype()));  // [B, H, S, Dh]
  }
  return state;
}

torch::Tensor DecoderImpl::step(const torch::Tensor& y, DecoderState& state) {
  TORCH_CHECK(y.dim() == 3 && y.size(1) == 1 && y.size(0) == state.batch_size(),
              "Decoder::step: y must be [",
              state.batch_size(),
              ", 1, D], got ",
              y.sizes());
  auto h = y;  // [B, 1, D]
  for (int64_t i = 0; i < num_layers(); ++i) {
    const auto layer_index = static_cast<size_t>(i);
    h = layer(i).forward_step(
        h, state.self_attn[layer_index], state.cross_attn[layer_index], state.src_keep);
  }
  state.length += 1;
  return final_norm_.is_empty() ? h : final_norm_(h);  // [B, 1, D]
}

void DecoderImpl::set_recorder(AttentionRecorder* recorder) {
  for (int64_t i = 0; i < num_layers(); ++i) {
    const std::string prefix = "decoder." + std::to_string(i);
    layer(i).self_attn()->set_recorder(recorder, prefix + ".self_attn");
    layer(i).cross_attn()->set_recorder(recorder, prefix + ".cross_attn");
  }
}

}  // namespace qkv
