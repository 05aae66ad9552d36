// ModelConfig: the architecture of the Transformer, as read from the `model:` section of an
// experiment YAML. A plain struct: no YAML here (train/experiment_config.cpp parses it).
#pragma once

#include <array>
#include <cstdint>
#include <utility>

namespace qkv {

// Each enum's YAML spelling is its enum_names() table, the only place the names are written
// (train/enum_names.h reads them).

/// model.norm: where LayerNorm sits around each sublayer.
enum class NormPosition {
  kPre,   ///< x + dropout(sublayer(norm(x))); stacks end with a final LayerNorm (default)
  kPost,  ///< norm(x + dropout(sublayer(x))), as in "Attention Is All You Need"
};
constexpr std::array<std::pair<NormPosition, const char*>, 2> enum_names(NormPosition) {
  return {{{NormPosition::kPre, "pre"}, {NormPosition::kPost, "post"}}};
}

/// model.positions: how token positions enter the embeddings.
enum class PositionKind {
  kSinusoidal,  ///< fixed sin/cos table (needs an even d_model)
  kLearned,     ///< a trained embedding per position
};
constexpr std::array<std::pair<PositionKind, const char*>, 2> enum_names(PositionKind) {
  return {{{PositionKind::kSinusoidal, "sinusoidal"}, {PositionKind::kLearned, "learned"}}};
}

struct ModelConfig {
  int64_t d_model = 256;                   // width of embeddings and of the residual stream (D)
  int64_t num_heads = 4;                   // attention heads (H); must divide d_model, Dh = D / H
  int64_t d_ff = 1024;                     // hidden width of the position-wise feed-forward network
  int64_t encoder_layers = 3;              // encoder layers (self-attention + feed-forward)
  int64_t decoder_layers = 3;              // decoder layers (masked self-attn + cross-attn + FFN)
  double dropout = 0.1;                    // dropout on embeddings, sublayer outputs and FFN hidden
  double attention_dropout = 0.1;          // dropout on the attention weights
  NormPosition norm = NormPosition::kPre;  // pre (LayerNorm before each sublayer) or post (paper)
  PositionKind positions = PositionKind::kSinusoidal;  // sinusoidal or learned positions
  bool tie_embeddings = true;   // share source/target/output embedding matrix
  int64_t max_positions = 512;  // longest sequence (tokens) the position table covers

  /// Calls v(name, member, doc) for every field, in file order. The YAML reader, writer and
  /// the documentation of the config keys all come from this one list.
  template <class Visitor>
  void visit_fields(Visitor& v) {
    v("d_model", d_model, "width of embeddings and of the residual stream (D)");
    v("num_heads", num_heads, "attention heads (H); must divide d_model; Dh = d_model / num_heads");
    v("d_ff", d_ff, "hidden width of the position-wise feed-forward network");
    v("encoder_layers", encoder_layers, "number of encoder layers");
    v("decoder_layers", decoder_layers, "number of decoder layers");
    v("dropout", dropout, "dropout on embeddings, sublayer outputs and the FFN hidden layer");
    v("attention_dropout", attention_dropout, "dropout on the attention weights");
    v("norm",
      norm,
      "pre | post: LayerNorm before each sublayer (pre) or after the residual (post)");
    v("positions", positions, "sinusoidal | learned position embeddings");
    v("tie_embeddings", tie_embeddings, "share source, target and output embedding matrices");
    v("max_positions", max_positions, "longest sequence in tokens that positions cover");
  }
};

}  // namespace qkv
