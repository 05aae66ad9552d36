// A made-up HeadStudy for the writers of `qkv heads`: two sites of two heads, BLEU.
#pragma once

#include "train/head_importance.h"

namespace qkv::test {

/// Site "encoder.0.self_attn" heads 0, 1 and "decoder.0.cross_attn" heads 0, 1 with BLEU
/// importance -0.5, +0.25, -2.0, 0 (the cross-attention head 0 matters most); loss
/// importance 0.01, -0.002, 0.3, 0.0; pruning in that ascending-loss order.
inline HeadStudy bleu_study() {
  HeadStudy s;
  s.metric = HeadMetric::kBleu;
  s.loss_sentences = 818;
  s.metric_sentences = 200;
  s.sites = {"encoder.0.self_attn", "decoder.0.cross_attn"};
  s.num_heads = 2;
  s.full = {3.5, 20.0};
  const auto unit = [&](const std::string& site, int64_t head, double bleu, double loss) {
    return SwitchedOff{site + ":" + std::to_string(head),
                       HeadMask{{{site, {head}}}},
                       {s.full.loss + loss, s.full.metric + bleu},
                       bleu,
                       loss};
  };
  s.heads = {unit("encoder.0.self_attn", 0, -0.5, 0.01),
             unit("encoder.0.self_attn", 1, 0.25, -0.002),
             unit("decoder.0.cross_attn", 0, -2.0, 0.3),
             unit("decoder.0.cross_attn", 1, 0.0, 0.0)};
  s.sites_off = {{"encoder.0.self_attn", {}, {3.6, 19.0}, -1.0, 0.1},
                 {"decoder.0.cross_attn", {}, {4.5, 10.0}, -10.0, 1.0}};
  s.layers_off = {{"encoder.0", {}, {3.6, 19.0}, -1.0, 0.1},
                  {"decoder.0", {}, {5.0, 5.0}, -15.0, 1.5}};
  s.pruning = {{"", s.full},
               {"encoder.0.self_attn:1", {3.498, 20.25}},
               {"decoder.0.cross_attn:1", {3.498, 20.1}},
               {"encoder.0.self_attn:0", {3.51, 19.0}},
               {"decoder.0.cross_attn:0", {4.5, 9.0}}};
  return s;
}

}  // namespace qkv::test
