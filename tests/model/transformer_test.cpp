// Tests of model/transformer: parameter count and names, causality, padding invariance,
// KV-cached decoding against the full pass, recording, config validation.
#include "model/transformer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "model/masks.h"
#include "tests/model/model_test_util.h"
#include "tests/model/reference_attention.h"

namespace qkv {
namespace {

using test::kBos;
using test::kPad;
using test::max_abs_diff;
using test::random_tokens;
using test::small_config;

constexpr int64_t kVocab = 23;

Transformer make_model(const ModelConfig& config, uint64_t seed = 0) {
  torch::manual_seed(seed);
  Transformer model(config, kVocab, kPad);
  model->eval();
  return model;
}

std::vector<std::string> parameter_names(const torch::nn::Module& module) {
  std::vector<std::string> names;
  for (const auto& entry : module.named_parameters()) {
    names.push_back(entry.key());
  }
  return names;
}

// Teacher-forcing input: BOS followed by `tokens` [B, T] -> [B, T + 1].
torch::Tensor with_bos(const torch::Tensor& tokens) {
  return torch::cat({torch::full({tokens.size(0), 1}, kBos, torch::kLong), tokens}, 1);
}

TEST(Transformer, DefaultConfigHasSameParameterCountAsPyTorchPeer) {
  // 7,578,624 = nn.Transformer(d 256, 4 heads, d_ff 1024, 3+3 layers, norm_first=True):
  // 3 encoder layers of 789,760 + 3 decoder layers of 1,053,440 + 2 final LayerNorms of 512,
  // + one tied 8000 x 256 embedding (2,048,000): the plain-PyTorch peer that
  // scripts/bench_vs_peer.sh compares with has exactly this many parameters.
  Transformer model(ModelConfig{}, /*vocab_size=*/8000, kPad);
  EXPECT_EQ(count_parameters(*model), 7578624);
}

TEST(Transformer, ParameterNamesAndShapesArePinned) {
  // Checkpoints and Python users depend on these names: change them only on purpose.
  ModelConfig config = small_config();
  config.encoder_layers = 1;
  config.decoder_layers = 1;
  auto model = make_model(config);
  const std::vector<std::string> attention = {"query_proj.weight",
                                              "query_proj.bias",
                                              "key_proj.weight",
                                              "key_proj.bias",
                                              "value_proj.weight",
                                              "value_proj.bias",
                                              "output_proj.weight",
                                              "output_proj.bias"};
  std::vector<std::string> expected = {"shared_embedding.weight"};
  auto add = [&](const std::string& prefix, const std::vector<std::string>& names) {
    for (const auto& name : names) {
      expected.push_back(prefix + name);
    }
  };
  add("encoder.layers.0.self_attn.", attention);
  add("encoder.layers.0.self_attn_norm.", {"weight", "bias"});
  add("encoder.layers.0.feed_forward.",
      {"up_proj.weight", "up_proj.bias", "down_proj.weight", "down_proj.bias"});
  add("encoder.layers.0.feed_forward_norm.", {"weight", "bias"});
  add("encoder.final_norm.", {"weight", "bias"});
  add("decoder.layers.0.self_attn.", attention);
  add("decoder.layers.0.self_attn_norm.", {"weight", "bias"});
  add("decoder.layers.0.cross_attn.", attention);
  add("decoder.layers.0.cross_attn_norm.", {"weight", "bias"});
  add("decoder.layers.0.feed_forward.",
      {"up_proj.weight", "up_proj.bias", "down_proj.weight", "down_proj.bias"});
  add("decoder.layers.0.feed_forward_norm.", {"weight", "bias"});
  add("decoder.final_norm.", {"weight", "bias"});
  EXPECT_EQ(parameter_names(*model), expected);

  auto parameters = model->named_parameters();
  EXPECT_EQ(parameters["shared_embedding.weight"].sizes(), (std::vector<int64_t>{kVocab, 32}));
  EXPECT_EQ(parameters["encoder.layers.0.feed_forward.up_proj.weight"].sizes(),
            (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(parameters["decoder.layers.0.cross_attn.key_proj.weight"].sizes(),
            (std::vector<int64_t>{32, 32}));
  // The sinusoidal table is a buffer, not a parameter.
  EXPECT_EQ(model->named_buffers()["positions.table"].sizes(), (std::vector<int64_t>{64, 32}));
}

TEST(Transformer, UntiedPostNormLearnedVariantNames) {
  ModelConfig config = small_config();
  config.encoder_layers = 1;
  config.decoder_layers = 1;
  config.tie_embeddings = false;
  config.norm = NormPosition::kPost;
  config.positions = PositionKind::kLearned;
  auto model = make_model(config);
  auto names = parameter_names(*model);
  ASSERT_GE(names.size(), 4u);
  EXPECT_EQ(names[0], "source_embedding.weight");
  EXPECT_EQ(names[1], "target_embedding.weight");
  EXPECT_EQ(names[2], "positions.weight");
  EXPECT_EQ(names[names.size() - 2], "output_proj.weight");
  EXPECT_EQ(names.back(), "output_proj.bias");
  for (const auto& name : names) {
    EXPECT_EQ(name.find("final_norm"), std::string::npos) << "post-norm has no final norm";
  }
  // Two extra [V, D] tables + output bias + learned positions, two final norms fewer.
  auto tied = small_config();
  tied.encoder_layers = 1;
  tied.decoder_layers = 1;
  EXPECT_EQ(count_parameters(*model) - count_parameters(*make_model(tied)),
            2 * kVocab * 32 + kVocab + 64 * 32 - 2 * 2 * 32);
}

TEST(Transformer, TiedOutputProjectionUsesTheSharedEmbedding) {
  auto model = make_model(small_config());
  auto hidden = torch::randn({2, 3, 32});
  auto table = model->named_parameters()["shared_embedding.weight"];
  EXPECT_TRUE(torch::allclose(model->logits(hidden), torch::matmul(hidden, table.t())));
}

TEST(Transformer, InitialisationIsXavierWithZeroBiases) {
  auto model = make_model(small_config());
  for (const auto& entry : model->named_parameters()) {
    const auto& p = entry.value();
    if (p.dim() == 2) {
      const double bound = std::sqrt(6.0 / static_cast<double>(p.size(0) + p.size(1)));
      EXPECT_LE(p.abs().max().item<double>(), bound) << entry.key();
      EXPECT_GT(p.abs().max().item<double>(), 0.5 * bound) << entry.key();
    } else if (entry.key().find("_proj.bias") != std::string::npos) {
      EXPECT_EQ(p.abs().max().item<double>(), 0.0) << entry.key();
    }
  }
}

TEST(Transformer, ForwardShapes) {
  auto model = make_model(small_config());
  auto src = random_tokens({5, 3}, kVocab);
  auto tgt = with_bos(random_tokens({4, 2}, kVocab));
  EXPECT_EQ(model(src, tgt).sizes(), (std::vector<int64_t>{2, 5, kVocab}));
}

class TransformerVariantTest : public ::testing::TestWithParam<std::string> {
 protected:
  // "pre" or "post" norm; "learned" = pre-norm with learned positions, untied.
  ModelConfig config() const {
    ModelConfig config = small_config();
    if (GetParam() == "post") {
      config.norm = NormPosition::kPost;
    } else if (GetParam() == "learned") {
      config.positions = PositionKind::kLearned;
      config.tie_embeddings = false;
    }
    return config;
  }
};

TEST_P(TransformerVariantTest, FutureTargetTokensDoNotChangeEarlierOutputs) {
  auto model = make_model(config(), 11);
  auto src = random_tokens({6, 4}, kVocab);
  auto tgt = with_bos(random_tokens({7, 7}, kVocab));  // [2, 8]
  auto logits = model(src, tgt);                       // [2, 8, V]
  for (int64_t t = 0; t + 1 < tgt.size(1); ++t) {
    auto changed = tgt.clone();
    changed.narrow(1, t + 1, tgt.size(1) - t - 1)
        .copy_(torch::randint(4, kVocab, {2, tgt.size(1) - t - 1}, torch::kLong));
    auto changed_logits = model(src, changed);
    // Exact: masked scores are -inf, so their weights are exactly 0 and add nothing.
    EXPECT_TRUE(torch::equal(logits.narrow(1, 0, t + 1), changed_logits.narrow(1, 0, t + 1)))
        << "position " << t;
    EXPECT_FALSE(torch::allclose(logits.narrow(1, t + 1, 1), changed_logits.narrow(1, t + 1, 1)));
  }
}

TEST_P(TransformerVariantTest, AppendingSourcePaddingChangesNothing) {
  auto model = make_model(config(), 12);
  auto src = random_tokens({6, 3, 5}, kVocab);                                  // [3, 6]
  auto padded = torch::cat({src, torch::full({3, 4}, kPad, torch::kLong)}, 1);  // [3, 10]
  auto tgt = with_bos(random_tokens({5, 2, 4}, kVocab));
  auto logits = model(src, tgt);
  auto padded_logits = model(padded, tgt);
  EXPECT_TRUE(torch::allclose(logits, padded_logits, 1e-5, 1e-5))
      << max_abs_diff(logits, padded_logits);
  // Encoder outputs of the real tokens are unchanged too.
  auto memory = model->encode(src, make_padding_mask(src, kPad));
  auto padded_memory = model->encode(padded, make_padding_mask(padded, kPad));
  auto real = make_padding_mask(src, kPad).view({3, 6, 1}).expand({3, 6, 32});
  EXPECT_TRUE(torch::allclose(
      memory.masked_select(real), padded_memory.narrow(1, 0, 6).masked_select(real), 1e-5, 1e-5));
}

TEST_P(TransformerVariantTest, CachedDecodingEqualsFullForwardAtEveryStep) {
  auto model = make_model(config(), 13);
  auto src = random_tokens({7, 2, 5}, kVocab);            // different source lengths
  auto tgt = with_bos(random_tokens({6, 6, 6}, kVocab));  // [3, 7]
  auto full = model(src, tgt);                            // [3, 7, V]
  torch::NoGradGuard no_grad;
  auto src_keep = make_padding_mask(src, kPad);
  auto state = model->start_decoding(model->encode(src, src_keep), src_keep);
  for (int64_t t = 0; t < tgt.size(1); ++t) {
    auto step = model->decode_step(tgt.select(1, t), state);  // [3, V]
    EXPECT_TRUE(torch::allclose(step, full.select(1, t), 1e-5, 1e-5))
        << "step " << t << ": " << max_abs_diff(step, full.select(1, t));
  }
  EXPECT_EQ(state.length, tgt.size(1));
}

INSTANTIATE_TEST_SUITE_P(Variants,
                         TransformerVariantTest,
                         ::testing::Values("pre", "post", "learned"));

TEST(Transformer, CachedDecodingWorksUnderAutograd) {
  auto model = make_model(small_config(), 14);
  auto src = random_tokens({4}, kVocab);
  auto tgt = with_bos(random_tokens({3}, kVocab));
  auto full = model(src, tgt);
  auto src_keep = make_padding_mask(src, kPad);
  auto state = model->start_decoding(model->encode(src, src_keep), src_keep);
  torch::Tensor last;
  for (int64_t t = 0; t < tgt.size(1); ++t) {
    last = model->decode_step(tgt.select(1, t), state);
  }
  EXPECT_TRUE(torch::allclose(last, full.select(1, tgt.size(1) - 1), 1e-5, 1e-5));
  last.sum().backward();  // in-place cache writes would make this throw
  auto grad = model->named_parameters()["decoder.layers.0.self_attn.key_proj.weight"].grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_GT(grad.abs().sum().item<double>(), 0.0);
}

TEST(Transformer, ReorderedStateEqualsDecodingReorderedSentences) {
  auto model = make_model(small_config(), 15);
  auto src = random_tokens({5, 3, 6}, kVocab);
  auto tgt = with_bos(random_tokens({4, 4, 4}, kVocab));  // [3, 5]
  torch::NoGradGuard no_grad;
  auto src_keep = make_padding_mask(src, kPad);
  auto state = model->start_decoding(model->encode(src, src_keep), src_keep);
  auto index = torch::tensor({2, 0, 0, 1}, torch::kLong);  // reorder, duplicate, drop none
  auto full = model(src.index_select(0, index), tgt.index_select(0, index));  // [4, 5, V]
  for (int64_t t = 0; t < 2; ++t) {
    model->decode_step(tgt.select(1, t), state);
  }
  state.reorder(index);
  EXPECT_EQ(state.batch_size(), 4);
  for (int64_t t = 2; t < tgt.size(1); ++t) {
    auto step = model->decode_step(tgt.index_select(0, index).select(1, t), state);
    EXPECT_TRUE(torch::allclose(step, full.select(1, t), 1e-5, 1e-5)) << "step " << t;
  }
}

TEST(Transformer, ReorderTargetKeepsSourceSide) {
  auto model = make_model(small_config(), 16);
  auto src = random_tokens({5, 5}, kVocab).narrow(0, 0, 1).repeat({2, 1});  // same sentence x2
  auto tgt = with_bos(random_tokens({4, 4}, kVocab));
  torch::NoGradGuard no_grad;
  auto src_keep = make_padding_mask(src, kPad);
  auto state = model->start_decoding(model->encode(src, src_keep), src_keep);
  model->decode_step(tgt.select(1, 0), state);
  model->decode_step(tgt.select(1, 1), state);
  auto index = torch::tensor({1, 1}, torch::kLong);  // both rows follow hypothesis 1
  state.reorder_target(index);
  auto step = model->decode_step(tgt.select(1, 2).index_select(0, index), state);
  auto full = model(src, tgt.index_select(0, index));
  EXPECT_TRUE(torch::allclose(step, full.select(1, 2), 1e-5, 1e-5));
}

TEST(Transformer, PositionsBeyondMaxPositionsThrow) {
  auto config = small_config();
  config.max_positions = 4;
  auto model = make_model(config);
  auto src = random_tokens({5}, kVocab);
  EXPECT_THROW(model->encode(src, make_padding_mask(src, kPad)), c10::Error);
}

TEST(Transformer, RecordsEverySiteWithPerHeadShapes) {
  auto model = make_model(small_config(), 17);
  auto src = random_tokens({6, 3}, kVocab);
  auto tgt = with_bos(random_tokens({4, 2}, kVocab));  // [2, 5]
  AttentionRecorder recorder;
  {
    AttentionRecordingScope scope(model, recorder);
    model(src, tgt);
  }
  EXPECT_EQ(recorder.sites(),
            (std::vector<std::string>{"decoder.0.cross_attn",
                                      "decoder.0.self_attn",
                                      "decoder.1.cross_attn",
                                      "decoder.1.self_attn",
                                      "encoder.0.self_attn",
                                      "encoder.1.self_attn"}));
  const auto& encoder = recorder.at("encoder.1.self_attn").at(0).weights;
  const auto& self = recorder.at("decoder.0.self_attn").at(0).weights;
  const auto& cross = recorder.at("decoder.1.cross_attn").at(0).weights;
  EXPECT_EQ(encoder.sizes(), (std::vector<int64_t>{2, 4, 6, 6}));
  EXPECT_EQ(self.sizes(), (std::vector<int64_t>{2, 4, 5, 5}));
  EXPECT_EQ(cross.sizes(), (std::vector<int64_t>{2, 4, 5, 6}));
  // Decoder self-attention is lower-triangular; source padding columns are exactly 0.
  EXPECT_TRUE(torch::equal(self, self.tril()));
  EXPECT_TRUE(torch::equal(cross.select(0, 1).narrow(-1, 3, 3), torch::zeros({4, 5, 3})));
  EXPECT_TRUE(torch::equal(encoder.select(0, 1).narrow(-1, 3, 3), torch::zeros({4, 6, 3})));
  for (const auto& site : recorder.sites()) {
    auto sums = recorder.at(site).at(0).weights.sum(-1);
    EXPECT_TRUE(torch::allclose(sums, torch::ones_like(sums), 1e-5, 1e-6)) << site;
  }
  // The scope detached the recorder.
  model(src, tgt);
  EXPECT_EQ(recorder.at("encoder.0.self_attn").size(), 1u);
}

TEST(Transformer, IncrementalRecordsJoinToTeacherForcedRecords) {
  auto model = make_model(small_config(), 18);
  auto src = random_tokens({6, 3}, kVocab);
  auto tgt = with_bos(random_tokens({4, 4}, kVocab));  // [2, 5]
  AttentionRecorderOptions options;
  options.keep_projections = true;
  AttentionRecorder full(options);
  AttentionRecorder steps(options);
  torch::NoGradGuard no_grad;
  {
    AttentionRecordingScope scope(model, full);
    model(src, tgt);
  }
  {
    AttentionRecordingScope scope(model, steps);
    auto src_keep = make_padding_mask(src, kPad);
    auto state = model->start_decoding(model->encode(src, src_keep), src_keep);
    for (int64_t t = 0; t < tgt.size(1); ++t) {
      model->decode_step(tgt.select(1, t), state);
    }
  }
  for (const std::string site : {"decoder.0.self_attn", "decoder.1.cross_attn"}) {
    ASSERT_EQ(steps.at(site).size(), 5u) << site;
    EXPECT_EQ(steps.at(site).at(0).weights.size(2), 1) << "one query row per step";
    auto joined = concat_step_records(steps.at(site));
    const auto& reference = full.at(site).at(0);
    EXPECT_TRUE(torch::allclose(joined.weights, reference.weights, 1e-5, 1e-6)) << site;
    EXPECT_TRUE(torch::allclose(joined.q, reference.q, 1e-5, 1e-5)) << site;
    EXPECT_TRUE(torch::allclose(joined.k, reference.k, 1e-5, 1e-5)) << site;
    EXPECT_TRUE(torch::allclose(joined.v, reference.v, 1e-5, 1e-5)) << site;
    EXPECT_TRUE(torch::allclose(joined.head_outputs, reference.head_outputs, 1e-5, 1e-5)) << site;
  }
}

TEST(Transformer, ConfigErrorsNameTheKey) {
  auto expect_error = [](ModelConfig config, const std::string& message) {
    try {
      Transformer model(config, kVocab, kPad);
      ADD_FAILURE() << "expected std::invalid_argument: " << message;
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find(message), std::string::npos) << error.what();
    }
  };
  auto config = small_config();
  config.num_heads = 6;
  expect_error(config, "model.num_heads: 6 does not divide model.d_model 32");
  config = small_config();
  config.dropout = 1.0;
  expect_error(config, "model.dropout: must be in [0, 1)");
  config = small_config();
  config.decoder_layers = 0;
  expect_error(config, "model.decoder_layers: must be > 0");
  config = small_config();
  config.d_model = 255;
  config.num_heads = 5;
  expect_error(config, "model.d_model: 255 must be even for sinusoidal positions");
  config.positions = PositionKind::kLearned;
  EXPECT_NO_THROW(validate_model_config(config));  // learned positions take any width
  EXPECT_THROW(Transformer(small_config(), kVocab, /*pad_id=*/kVocab), std::invalid_argument);
}

}  // namespace
}  // namespace qkv
