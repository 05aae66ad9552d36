// Learning test (slow): a small Transformer trained here from random weights on a copy task
// (target = source) must translate fresh sequences exactly, and the word alignment read from
// its cross-attention (app/export/word_alignment.h, default layer) must be the identity: the
// end-to-end check that --align means what it says.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <iostream>

#include "app/export/word_alignment.h"
#include "data/special_tokens.h"
#include "inference/attention_maps.h"
#include "model/search.h"
#include "tests/common/test_model_config.h"

namespace qkv {
namespace {

constexpr int64_t kSymbols = 12;          // content tokens 4 .. 15
constexpr int64_t kVocab = 4 + kSymbols;  // with pad, unk, bos, eos
constexpr int64_t kMinLength = 3;
constexpr int64_t kMaxLength = 8;

struct CopyBatch {
  torch::Tensor src, tgt_in, tgt_out;  // [B, W]: x </s>; <s> x; x </s> (padded)
  std::vector<std::vector<int64_t>> sequences;
};

CopyBatch copy_batch(int64_t size) {
  CopyBatch batch;
  const int64_t width = kMaxLength + 1;
  batch.src = torch::full({size, width}, kPadId, torch::kLong);
  batch.tgt_in = torch::full({size, width}, kPadId, torch::kLong);
  batch.tgt_out = torch::full({size, width}, kPadId, torch::kLong);
  for (int64_t b = 0; b < size; ++b) {
    const int64_t n = torch::randint(kMinLength, kMaxLength + 1, {1}).item<int64_t>();
    std::vector<int64_t> x;
    for (int64_t i = 0; i < n; ++i) x.push_back(torch::randint(4, kVocab, {1}).item<int64_t>());
    batch.tgt_in[b][0] = kBosId;
    for (int64_t i = 0; i < n; ++i) {
      batch.src[b][i] = x[static_cast<size_t>(i)];
      batch.tgt_out[b][i] = x[static_cast<size_t>(i)];
      batch.tgt_in[b][i + 1] = x[static_cast<size_t>(i)];
    }
    batch.src[b][n] = kEosId;
    batch.tgt_out[b][n] = kEosId;
    batch.sequences.push_back(x);
  }
  return batch;
}

ModelConfig copy_config() {
  ModelConfig config = test::test_model_config(/*d_model=*/64, /*num_heads=*/2, /*d_ff=*/128);
  config.max_positions = 32;
  return config;
}

// Trains until greedy search copies 99% of a held-out batch (or 1500 steps).
void train_copy(Transformer& model) {
  torch::optim::Adam optimizer(model->parameters(),
                               torch::optim::AdamOptions(2e-3).betas({0.9, 0.98}).eps(1e-9));
  const CopyBatch held_out = copy_batch(100);
  SearchOptions search;
  search.max_length_ratio = 1.0;
  search.max_length_offset = 2;
  for (int64_t step = 0; step < 1500; ++step) {
    model->train();
    const double warmup = 100;
    const double lr = 2e-3 * std::min((step + 1) / warmup, std::sqrt(warmup / (step + 1)));
    static_cast<torch::optim::AdamOptions&>(optimizer.param_groups()[0].options()).lr(lr);
    const CopyBatch batch = copy_batch(64);
    auto logits = model(batch.src, batch.tgt_in);  // [B, T, V]
    auto loss = torch::nn::functional::cross_entropy(
        logits.reshape({-1, kVocab}),
        batch.tgt_out.reshape({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kPadId));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    if ((step + 1) % 100 == 0) {
      model->eval();
      const auto found = greedy_search(*model, held_out.src, search);
      int64_t correct = 0;
      for (size_t b = 0; b < found.size(); ++b) {
        correct += found[b][0].finished && found[b][0].tokens == held_out.sequences[b] ? 1 : 0;
      }
      std::cout << "[copy] step " << step + 1 << " loss " << loss.item<double>() << " exact "
                << correct << "/100" << std::endl;
      if (correct >= 99) return;
    }
  }
}

TEST(AlignmentLearning, CopyTaskAlignmentIsTheIdentity) {
  const auto start = std::chrono::steady_clock::now();
  torch::set_num_threads(1);
  torch::manual_seed(11);
  Transformer model(copy_config(), kVocab, kPadId);
  train_copy(model);
  model->eval();

  const CopyBatch fresh = copy_batch(100);
  SearchOptions search;
  search.max_length_ratio = 1.0;
  search.max_length_offset = 2;
  const auto found = greedy_search(*model, fresh.src, search);
  int64_t copied = 0;
  std::vector<int64_t> identical(2, 0);  // per decoder layer
  int64_t layer_used = -1;
  for (size_t b = 0; b < fresh.sequences.size(); ++b) {
    const Hypothesis& best = found[b][0];
    copied += best.finished && best.tokens == fresh.sequences[b] ? 1 : 0;
    SentenceAttention sentence =
        collect_attention(model, {fresh.sequences[b], best.tokens, best.finished}, false);
    // Every token is its own word: "▁t<id>".
    auto label = [](int64_t id) {
      return id == kEosId   ? std::string("</s>")
             : id == kBosId ? "<s>"
                            : "\u2581t" + std::to_string(id);
    };
    for (int64_t id : sentence.source_ids) sentence.source_tokens.push_back(label(id));
    for (int64_t id : sentence.target_ids) sentence.target_tokens.push_back(label(id));
    for (int64_t id : sentence.predicted_ids) sentence.predicted_tokens.push_back(label(id));
    std::vector<std::pair<int64_t, int64_t>> identity;
    for (size_t i = 0; i < best.tokens.size(); ++i) {
      identity.emplace_back(static_cast<int64_t>(i), static_cast<int64_t>(i));
    }
    for (int64_t layer = 0; layer < 2; ++layer) {
      identical[static_cast<size_t>(layer)] += align_words(sentence, layer) == identity ? 1 : 0;
    }
    layer_used = default_alignment_layer(sentence);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[copy] " << seconds << " s; copied " << copied
            << "/100; identity alignment per decoder layer: " << identical[0] << "/100, "
            << identical[1] << "/100 (default layer " << layer_used << ")" << std::endl;
  EXPECT_GE(copied, 95);
  EXPECT_GE(identical[static_cast<size_t>(layer_used)], 95)
      << "--align's default layer does not recover the copy task's identity alignment";
}

}  // namespace
}  // namespace qkv
