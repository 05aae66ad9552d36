// Head masks: which attention heads are switched off, so that a learner can see what a head is
// for by taking it away (Michel, Levy and Neubig 2019, "Are Sixteen Heads Really Better than
// One?"). A switched-off head's output [B, H, Tq, Dh] slice is zeroed before the output
// projection. Meant for inference and teacher-forced scoring, not training.
//
// This file is the typed mask and its one parser (the --heads-off SPEC of the CLI and the
// `heads_off` field of qkv serve); TransformerImpl::set_head_mask applies it to a model.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qkv {

/// Heads switched off, by attention site as the attention export names them
/// ("encoder.0.self_attn", "decoder.2.self_attn", "decoder.2.cross_attn").
struct HeadMask {
  std::map<std::string, std::vector<int64_t>> heads_off;  ///< site -> heads, sorted, unique

  bool empty() const { return heads_off.empty(); }
};

/// Parses "decoder.2.cross_attn:1,3;encoder.0.self_attn:0" (spaces around parts allowed; a
/// site named twice gets the union). Throws std::invalid_argument, one line naming the bad part,
/// for an empty spec, a part without ":HEADS", a head that is not a number >= 0, or a site name
/// that is not encoder.<l>.self_attn, decoder.<l>.self_attn or decoder.<l>.cross_attn.
/// Layer and head ranges depend on the model: check_head_mask.
HeadMask parse_head_mask(const std::string& spec);

/// Throws std::invalid_argument naming the site or head when `mask` names a layer the model
/// lacks or a head outside [0, num_heads).
void check_head_mask(const HeadMask& mask,
                     int64_t encoder_layers,
                     int64_t decoder_layers,
                     int64_t num_heads);

}  // namespace qkv
