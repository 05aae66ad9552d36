// Descriptions of the attention types (see site_description.h). The Q/K/V origins follow
// model/encoder.cpp (EncoderLayerImpl::forward) and model/decoder.cpp (DecoderLayerImpl::forward).
#include "app/export/site_description.h"

namespace qkv {

std::string attention_title(AttentionType type) {
  switch (type) {
    case AttentionType::kEncoderSelf:
      return "encoder self-attention";
    case AttentionType::kDecoderSelf:
      return "decoder masked self-attention";
    case AttentionType::kCross:
      return "cross-attention";
  }
  return "attention";
}

std::string query_stream(AttentionType type) {
  return type == AttentionType::kEncoderSelf ? "source" : "target";
}

std::string key_stream(AttentionType type) {
  return type == AttentionType::kDecoderSelf ? "target" : "source";
}

std::string mask_name(AttentionType type) {
  return type == AttentionType::kDecoderSelf ? "causal" : "none";
}

std::string qkv_origin(AttentionType type) {
  switch (type) {
    case AttentionType::kEncoderSelf:
      return "Q, K and V all come from the encoder stream: the source positions as the previous "
             "encoder layer left them (layer 0: token embeddings + positions), after this "
             "layer's LayerNorm (pre-norm), each multiplied by its own learned matrix "
             "(query_proj, key_proj, value_proj).";
    case AttentionType::kDecoderSelf:
      return "Q, K and V all come from the decoder stream: the target prefix (<s> + the tokens "
             "so far) as the previous decoder layer left them, after this layer's LayerNorm. "
             "The causal mask hides later positions: when translating, they do not exist yet.";
    case AttentionType::kCross:
      return "Q comes from the decoder stream (each target position, after this layer's masked "
             "self-attention and LayerNorm); K and V come from the encoder output (memory: the "
             "same source vectors for every decoder layer, each layer projecting them with its "
             "own key_proj and value_proj).";
  }
  return "";
}

std::string qkv_origin_short(AttentionType type) {
  switch (type) {
    case AttentionType::kEncoderSelf:
      return "Q, K and V from the encoder stream (source)";
    case AttentionType::kDecoderSelf:
      return "Q, K and V from the decoder stream (target prefix), causal mask";
    case AttentionType::kCross:
      return "Q from the decoder (target), K and V from the encoder output (memory)";
  }
  return "";
}

}  // namespace qkv
