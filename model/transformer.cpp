// The encoder-decoder Transformer: wiring of embeddings, encoder, decoder and output
// projection, parameter initialisation and config validation (see transformer.h).
#include "model/transformer.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "model/dropout.h"
#include "model/masks.h"
#include "model/require.h"

namespace qkv {

namespace {

LayerOptions layer_options(const ModelConfig& config) {
  LayerOptions options;
  options.d_model = config.d_model;
  options.num_heads = config.num_heads;
  options.d_ff = config.d_ff;
  options.dropout = config.dropout;
  options.attention_dropout = config.attention_dropout;
  options.norm = config.norm;
  return options;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void validate_model_config(const ModelConfig& c) {
  const auto str = [](auto value) { return std::to_string(value); };
  require(c.d_model > 0, "model.d_model: must be > 0, got " + str(c.d_model));
  require(c.num_heads > 0, "model.num_heads: must be > 0, got " + str(c.num_heads));
  require(
      c.d_model % c.num_heads == 0,
      "model.num_heads: " + str(c.num_heads) + " does not divide model.d_model " + str(c.d_model));
  require(c.d_ff > 0, "model.d_ff: must be > 0, got " + str(c.d_ff));
  require(c.encoder_layers > 0, "model.encoder_layers: must be > 0, got " + str(c.encoder_layers));
  require(c.decoder_layers > 0, "model.decoder_layers: must be > 0, got " + str(c.decoder_layers));
  require(c.dropout >= 0.0 && c.dropout < 1.0,
          "model.dropout: must be in [0, 1), got " + str(c.dropout));
  require(c.attention_dropout >= 0.0 && c.attention_dropout < 1.0,
          "model.attention_dropout: must be in [0, 1), got " + str(c.attention_dropout));
  require(c.positions != PositionKind::kSinusoidal || c.d_model % 2 == 0,
          "model.d_model: " + str(c.d_model) + " must be even for sinusoidal positions");
  require(c.max_positions > 0, "model.max_positions: must be > 0, got " + str(c.max_positions));
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& parameter : module.parameters()) {
    total += parameter.numel();
  }
  return total;
}

TransformerImpl::TransformerImpl(const ModelConfig& config, int64_t vocab_size, int64_t pad_id)
    : config_(config), vocab_size_(vocab_size), pad_id_(pad_id) {
  validate_model_config(config);
  require(vocab_size > 0, "Transformer: vocab_size must be > 0, got " + std::to_string(vocab_size));
  require(pad_id >= 0 && pad_id < vocab_size,
          "Transformer: pad_id " + std::to_string(pad_id) + " is outside the vocabulary [0, " +
              std::to_string(vocab_size) + ")");
  const int64_t d = config.d_model;
  // Registration order fixes the order of named_parameters() (see transformer.h).
  if (config.tie_embeddings) {
    source_embedding_ = register_module("shared_embedding", torch::nn::Embedding(vocab_size, d));
    target_embedding_ = source_embedding_;
  } else {
    source_embedding_ = register_module("source_embedding", torch::nn::Embedding(vocab_size, d));
    target_embedding_ = register_module("target_embedding", torch::nn::Embedding(vocab_size, d));
  }
  positions_ = register_module(
      "positions",
      PositionalEncoding(PositionalEncodingOptions{
          config.max_positions, d, /*learned=*/config.positions == PositionKind::kLearned}));
  const LayerOptions layers = layer_options(config);
  encoder_ = register_module("encoder", Encoder(layers, config.encoder_layers));
  decoder_ = register_module("decoder", Decoder(layers, config.decoder_layers));
  if (!config.tie_embeddings) {
    output_proj_ = register_module("output_proj", Linear(d, vocab_size));
  }
  initialise_parameters();
}

void TransformerImpl::initialise_parameters() {
  torch::NoGradGuard no_grad;
  for (auto& entry : named_parameters()) {
    auto& parameter = entry.value();
    if (parameter.dim() > 1) {
      // Xavier keeps activation variance roughly constant through the linear layers.
      torch::nn::init::xavier_uniform_(parameter);
    } else if (ends_with(entry.key(), "_proj.bias")) {
      parameter.zero_();  // Linear biases start at 0; LayerNorm keeps weight 1, bias 0
    }
  }
}

torch::Tensor TransformerImpl::embed(const torch::Tensor& tokens,
                                     torch::nn::Embedding& table,
                                     int64_t start) {
  auto x = embed_tokens(tokens, table->weight, positions_(start, tokens.size(1)));  // [B, T, D]
  return apply_dropout(x, config_.dropout, is_training());                          // [B, T, D]
}

torch::Tensor TransformerImpl::encode(const torch::Tensor& src, const torch::Tensor& src_keep) {
  TORCH_CHECK(src.dim() == 2, "Transformer::encode: src must be [B, S], got ", src.sizes());
  TORCH_CHECK(src_keep.defined() && src_keep.dim() == 4,
              "Transformer::encode: src_keep must be bool [B, 1, 1, S] (make_padding_mask)");
  return encoder_(embed(src, source_embedding_, /*start=*/0), src_keep);  // [B, S, D]
}

torch::Tensor TransformerImpl::decode(const torch::Tensor& tgt_in,
                                      const torch::Tensor& memory,
                                      const torch::Tensor& src_keep,
                                      const torch::Tensor& tgt_keep) {
  TORCH_CHECK(tgt_in.dim() == 2 && memory.dim() == 3 && tgt_in.size(0) == memory.size(0),
              "Transformer::decode: tgt_in must be [B, T] and memory [B, S, D], got ",
              tgt_in.sizes(),
              " and ",
              memory.sizes());
  TORCH_CHECK(tgt_keep.defined() && tgt_keep.dim() == 4,
              "Transformer::decode: tgt_keep must be bool [B, 1, T, T] (make_target_mask)");
  auto y = embed(tgt_in, target_embedding_, /*start=*/0);  // [B, T, D]
  return logits(decoder_(y, memory, src_keep, tgt_keep));  // [B, T, V]
}

torch::Tensor TransformerImpl::forward(const torch::Tensor& src, const torch::Tensor& tgt_in) {
  auto src_keep = make_padding_mask(src, pad_id_);                   // [B, 1, 1, S]
  auto tgt_keep = make_target_mask(tgt_in, pad_id_);                 // [B, 1, T, T]
  return decode(tgt_in, encode(src, src_keep), src_keep, tgt_keep);  // [B, T, V]
}

torch::Tensor TransformerImpl::logits(const torch::Tensor& hidden) {
  if (!output_proj_.is_empty()) return output_proj_(hidden);  // [..., V]
  if (packed_tied_logits_) return (*packed_tied_logits_)(hidden);
  return dense(hidden, target_embedding_->weight, torch::Tensor());  // tied: [..., V], no bias
}

void TransformerImpl::pack_for_decoding(Precision precision) {
  torch::NoGradGuard no_grad;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* layer = module->as<LinearImpl>()) layer->pack(precision);
    if (auto* attention = module->as<MultiHeadAttentionImpl>()) {
      attention->pack_fused_projections(precision);
    }
  }
  if (output_proj_.is_empty()) {
    packed_tied_logits_.emplace(target_embedding_->weight, torch::Tensor(), precision);
  }
  packed_precision_ = precision;
}

void TransformerImpl::unpack() {
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* layer = module->as<LinearImpl>()) layer->unpack();
    if (auto* attention = module->as<MultiHeadAttentionImpl>()) {
      attention->unpack_fused_projections();
    }
  }
  packed_tied_logits_.reset();
  packed_precision_.reset();
}

void TransformerImpl::train(bool on) {
  if (on) unpack();
  torch::nn::Module::train(on);
}

DecoderState TransformerImpl::start_decoding(const torch::Tensor& memory,
                                             const torch::Tensor& src_keep) {
  return decoder_->start(memory, src_keep);
}

torch::Tensor TransformerImpl::decode_step(const torch::Tensor& last_tokens, DecoderState& state) {
  TORCH_CHECK(last_tokens.dim() == 1 && last_tokens.size(0) == state.batch_size(),
              "Transformer::decode_step: last_tokens must be [",
              state.batch_size(),
              "], got ",
              last_tokens.sizes());
  auto y = embed(last_tokens.unsqueeze(1), target_embedding_, state.length);  // [B, 1, D]
  return logits(decoder_->step(y, state)).squeeze(1);                         // [B, V]
}

void TransformerImpl::set_recorder(AttentionRecorder* recorder) {
  encoder_->set_recorder(recorder);
  decoder_->set_recorder(recorder);
}

void TransformerImpl::set_head_mask(const HeadMask& mask) {
  check_head_mask(mask, encoder_->num_layers(), decoder_->num_layers(), config_.num_heads);
  const auto heads = [&](const std::string& site) {
    const auto found = mask.heads_off.find(site);
    return found == mask.heads_off.end() ? std::vector<int64_t>{} : found->second;
  };
  for (int64_t i = 0; i < encoder_->num_layers(); ++i) {
    encoder_->layer(i).self_attn()->set_heads_off(
        heads("encoder." + std::to_string(i) + ".self_attn"));
  }
  for (int64_t i = 0; i < decoder_->num_layers(); ++i) {
    const std::string prefix = "decoder." + std::to_string(i);
    decoder_->layer(i).self_attn()->set_heads_off(heads(prefix + ".self_attn"));
    decoder_->layer(i).cross_attn()->set_heads_off(heads(prefix + ".cross_attn"));
  }
  head_mask_ = mask;
}

AttentionRecordingScope::AttentionRecordingScope(Transformer model, AttentionRecorder& recorder)
    : model_(std::move(model)) {
  model_->set_recorder(&recorder);
}

AttentionRecordingScope::~AttentionRecordingScope() { model_->set_recorder(nullptr); }

HeadMaskScope::HeadMaskScope(Transformer model, const HeadMask& mask)
    : model_(std::move(model)), previous_(model_->head_mask()) {
  model_->set_head_mask(mask);
}

// The previous mask was valid for this model, so putting it back cannot throw.
HeadMaskScope::~HeadMaskScope() { model_->set_head_mask(previous_); }

}  // namespace qkv
