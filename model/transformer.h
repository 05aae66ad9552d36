// Transformer: the encoder-decoder model (embeddings, encoder, decoder, output projection)
// with full-sequence encode()/decode() for training and a KV-cached decode_step() for search.
// Not here: search strategies (search.h), masks (masks.h), training (train/).
//
// Parameter names (stable: checkpoints and Python users depend on them; pinned by
// tests/model/transformer_test.cpp). {i} counts layers from 0; every Linear has `.weight`
// [out, in] and `.bias` [out], every LayerNorm `.weight` [D] and `.bias` [D].
//
//   shared_embedding.weight                      [V, D]  tie_embeddings: source, target and
//                                                        output projection (no output bias)
//   source_embedding.weight                      [V, D]  without tie_embeddings
//   target_embedding.weight                      [V, D]  without tie_embeddings
//   output_proj.weight [V, D], output_proj.bias  [V]     without tie_embeddings (last)
//   positions.weight                             [P, D]  positions = learned only (P =
//                                                        max_positions); sinusoidal tables are
//                                                        the buffer `positions.table`
//   encoder.layers.{i}.self_attn.{query_proj,key_proj,value_proj,output_proj}   Linear D -> D
//   encoder.layers.{i}.self_attn_norm                                           LayerNorm
//   encoder.layers.{i}.feed_forward.up_proj                                     Linear D -> F
//   encoder.layers.{i}.feed_forward.down_proj                                   Linear F -> D
//   encoder.layers.{i}.feed_forward_norm                                        LayerNorm
//   encoder.final_norm                                                   LayerNorm, pre-norm only
//   decoder.layers.{i}.self_attn.{query_proj,key_proj,value_proj,output_proj}   Linear D -> D
//   decoder.layers.{i}.self_attn_norm                                           LayerNorm
//   decoder.layers.{i}.cross_attn.{query_proj,key_proj,value_proj,output_proj}  Linear D -> D
//   decoder.layers.{i}.cross_attn_norm                                          LayerNorm
//   decoder.layers.{i}.feed_forward.{up_proj,down_proj}, feed_forward_norm
//   decoder.final_norm                                                   LayerNorm, pre-norm only
//
// named_parameters() lists them in this order (embeddings, positions, encoder, decoder,
// output_proj). Initialisation: Xavier-uniform for every matrix, zeros for Linear biases,
// ones/zeros for LayerNorm.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>

#include "model/attention_recorder.h"
#include "model/config.h"
#include "model/decoder.h"
#include "model/embedding.h"
#include "model/encoder.h"
#include "model/head_mask.h"
#include "model/linear.h"

namespace qkv {

/// Throws std::invalid_argument naming the key (e.g. "model.num_heads: 6 does not divide
/// model.d_model 256") for any field of `config` the model cannot be built with.
void validate_model_config(const ModelConfig& config);

/// Number of trainable scalars in `module` (sum of numel over parameters()).
int64_t count_parameters(const torch::nn::Module& module);

/// Encoder-decoder Transformer over one shared vocabulary of `vocab_size` token ids.
/// Masks follow masks.h: bool, true = may attend.
class TransformerImpl : public torch::nn::Module {
 public:
  /// Throws std::invalid_argument for an invalid config, vocab_size < 1 or pad_id outside
  /// [0, vocab_size).
  TransformerImpl(const ModelConfig& config, int64_t vocab_size, int64_t pad_id);

  /// src int64 [B, S], src_keep bool [B, 1, 1, S]. Returns memory [B, S, D].
  torch::Tensor encode(const torch::Tensor& src, const torch::Tensor& src_keep);

  /// Teacher-forced decoding. tgt_in int64 [B, T] (starts with BOS), memory [B, S, D],
  /// src_keep [B, 1, 1, S], tgt_keep [B, 1, T, T] (make_target_mask). Returns logits [B, T, V].
  torch::Tensor decode(const torch::Tensor& tgt_in,
                       const torch::Tensor& memory,
                       const torch::Tensor& src_keep,
                       const torch::Tensor& tgt_keep);

  /// encode + decode with masks built from pad_id. src [B, S], tgt_in [B, T]. Returns
  /// logits [B, T, V].
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& tgt_in);

  /// Output projection of decoder outputs [..., D] to logits [..., V].
  torch::Tensor logits(const torch::Tensor& hidden);

  /// Starts incremental decoding of B sentences: projects the memory [B, S, D] once for every
  /// cross-attention. Use under torch::NoGradGuard (caches are then written in place).
  DecoderState start_decoding(const torch::Tensor& memory, const torch::Tensor& src_keep);

  /// Feeds the last token of every row (int64 [B]; BOS first) at position state.length and
  /// returns the logits of the next token [B, V]. Equals the last row of decode() over the
  /// same prefix (up to float rounding). No host synchronisation.
  torch::Tensor decode_step(const torch::Tensor& last_tokens, DecoderState& state);

  /// Attaches `recorder` to every attention site (nullptr: detaches); see
  /// AttentionRecordingScope for the exception-safe way.
  void set_recorder(AttentionRecorder* recorder);

  /// Switches off the heads of `mask` in every forward path (encode, decode, decode_step, so
  /// greedy and beam search alike), replacing the mask in force; an empty mask switches every
  /// head back on. Throws std::invalid_argument (check_head_mask) before changing anything.
  /// For inference and teacher-forced scoring; call after moving the model to its device.
  void set_head_mask(const HeadMask& mask);
  /// The mask in force (empty: every head on).
  const HeadMask& head_mask() const { return head_mask_; }

  /// Converts the weights of every large GEMM (projections, feed-forward, output layer) once
  /// for decoding in `precision` (fp32, bf16 or int8; model/linear.h) and uses them until
  /// unpack() or train(). fp32 packing only caches the fused projection weights: same numbers.
  void pack_for_decoding(Precision precision);
  /// Back to the live float32 weights.
  void unpack();
  /// The precision of pack_for_decoding() in force, if any.
  std::optional<Precision> packed_precision() const { return packed_precision_; }
  /// train(true) unpacks first: training changes the weights the packs were made from.
  void train(bool on = true) override;

  const ModelConfig& config() const { return config_; }
  int64_t vocab_size() const { return vocab_size_; }
  int64_t pad_id() const { return pad_id_; }
  EncoderImpl& encoder() { return *encoder_; }
  DecoderImpl& decoder() { return *decoder_; }

 private:
  // tokens [B, T] at positions [start, start + T) -> dropout(embedding * sqrt(D) + pos) [B, T, D]
  torch::Tensor embed(const torch::Tensor& tokens, torch::nn::Embedding& table, int64_t start);
  void initialise_parameters();

  ModelConfig config_;
  int64_t vocab_size_;
  int64_t pad_id_;
  torch::nn::Embedding source_embedding_{nullptr};  // == target_embedding_ when tied
  torch::nn::Embedding target_embedding_{nullptr};
  PositionalEncoding positions_{nullptr};
  Encoder encoder_{nullptr};
  Decoder decoder_{nullptr};
  Linear output_proj_{nullptr};                     // untied only; tied uses the embedding matrix
  std::optional<PackedLinear> packed_tied_logits_;  // tied: the embedding matrix, packed
  std::optional<Precision> packed_precision_;
  HeadMask head_mask_;
};
TORCH_MODULE(Transformer);

/// RAII: attaches `recorder` to every attention site of `model`, detaches in the destructor.
///   AttentionRecorder recorder;
///   { AttentionRecordingScope scope(model, recorder); model->forward(src, tgt_in); }
///   recorder.at("decoder.0.cross_attn")[0].weights;  // [B, H, T, S]
class AttentionRecordingScope {
 public:
  AttentionRecordingScope(Transformer model, AttentionRecorder& recorder);
  ~AttentionRecordingScope();
  AttentionRecordingScope(const AttentionRecordingScope&) = delete;
  AttentionRecordingScope& operator=(const AttentionRecordingScope&) = delete;

 private:
  Transformer model_;
};

/// RAII: switches off the heads of `mask` on `model` (set_head_mask; throws like it), and puts
/// back the mask in force before in the destructor. For one request on a shared model:
///   { HeadMaskScope off(model, parse_head_mask("decoder.0.cross_attn:1")); translate(...); }
class HeadMaskScope {
 public:
  HeadMaskScope(Transformer model, const HeadMask& mask);
  ~HeadMaskScope();
  HeadMaskScope(const HeadMaskScope&) = delete;
  HeadMaskScope& operator=(const HeadMaskScope&) = delete;

 private:
  Transformer model_;
  HeadMask previous_;
};

}  // namespace qkv
