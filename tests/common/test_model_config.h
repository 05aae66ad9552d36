// Model configs for fast tests, shared by the test folders: small widths, no dropout (so
// forward passes are deterministic), 2 + 2 layers, 64 positions.
#pragma once

#include <cstdint>

#include "model/config.h"

namespace qkv::test {

/// A config of the given widths with no dropout, `layers` encoder and decoder layers.
inline ModelConfig test_model_config(int64_t d_model,
                                     int64_t num_heads,
                                     int64_t d_ff,
                                     int64_t layers = 2) {
  ModelConfig config;
  config.d_model = d_model;
  config.num_heads = num_heads;
  config.d_ff = d_ff;
  config.encoder_layers = layers;
  config.decoder_layers = layers;
  config.dropout = 0.0;
  config.attention_dropout = 0.0;
  config.max_positions = 64;
  return config;
}

}  // namespace qkv::test
