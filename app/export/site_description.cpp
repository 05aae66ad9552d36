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
      return "Q, K and V all come from the encoder stream: the source tokens as the previous "
             "encoder layer left them (layer 0: embeddings + positions), each projected by its "
             "own learned matrix (query_proj, key_proj, value_proj).";
    case AttentionType::kDecoderSelf:
      return "Q, K and V all come from the decoder stream: the target prefix (<s> + the tokens "
             "so far) as the previous decoder layer left them. The causal mask hides later "
             "positions, because at translation time they do not exist yet.";
    case AttentionType::kCross:
      return "Q comes from the decoder stream (the target position, after this layer's masked "
             "self-attention); K and V come from the encoder output (memory, the same for every "
             "decoder layer), projected by this layer's key_proj and value_proj.";
  }
  return "";
}

}  // namespace qkv
