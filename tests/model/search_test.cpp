// Tests of model/search: greedy vs uncached decoding, beam 1 == greedy, n-best order and
// scores, EOS and length limits, option validation.
#include "model/search.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/model/model_test_util.h"

namespace qkv {
namespace {

using test::kBos;
using test::kEos;
using test::kPad;
using test::random_tokens;
using test::search_options;
using test::small_config;

constexpr int64_t kVocab = 9;  // small: EOS comes up now and then in an untrained model

Transformer make_model(uint64_t seed, bool tie = true) {
  torch::manual_seed(seed);
  auto config = small_config();
  config.tie_embeddings = tie;
  Transformer model(config, kVocab, kPad);
  model->eval();
  return model;
}

// Sum of log-probabilities of `tokens` (+ EOS if finished) under teacher forcing.
double sequence_log_prob(Transformer& model,
                         const torch::Tensor& src_row,
                         const Hypothesis& hypothesis) {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> in = {kBos};
  in.insert(in.end(), hypothesis.tokens.begin(), hypothesis.tokens.end());
  std::vector<int64_t> out = hypothesis.tokens;
  if (hypothesis.finished) {
    out.push_back(kEos);
  } else {
    in.pop_back();  // the last token is predicted, never fed
  }
  auto tgt_in = torch::tensor(in, torch::kLong).unsqueeze(0);
  auto log_probs = torch::log_softmax(model(src_row.unsqueeze(0), tgt_in), -1)[0];  // [T, V]
  double total = 0.0;
  for (size_t t = 0; t < out.size(); ++t) {
    total += log_probs[static_cast<int64_t>(t)][out[t]].item<double>();
  }
  return total;
}

TEST(Search, GreedyEqualsUncachedArgmaxDecoding) {
  auto model = make_model(1);
  auto src = random_tokens({6, 2, 4, 5}, kVocab);
  auto options = search_options(1);
  auto result = greedy_search(*model, src, options);
  ASSERT_EQ(result.size(), 4u);
  torch::NoGradGuard no_grad;
  for (int64_t b = 0; b < src.size(0); ++b) {
    // Re-run the whole decoder over the prefix every step, without any cache.
    const int64_t source_length = src[b].ne(kPad).sum().item<int64_t>();
    const int64_t limit = max_output_length(source_length, 64, options);
    auto src_row = src[b].narrow(0, 0, source_length).unsqueeze(0);
    std::vector<int64_t> prefix = {kBos};
    std::vector<int64_t> expected;
    bool finished = false;
    for (int64_t step = 0; step < limit; ++step) {
      auto logits = model(src_row, torch::tensor(prefix, torch::kLong).unsqueeze(0));
      const int64_t next = logits[0][step].argmax().item<int64_t>();
      if (next == kEos) {
        finished = true;
        break;
      }
      expected.push_back(next);
      prefix.push_back(next);
    }
    const auto& hypothesis = result[static_cast<size_t>(b)].at(0);
    EXPECT_EQ(hypothesis.tokens, expected) << "sentence " << b;
    EXPECT_EQ(hypothesis.finished, finished) << "sentence " << b;
    EXPECT_NEAR(hypothesis.score, sequence_log_prob(model, src_row[0], hypothesis), 1e-4);
  }
}

TEST(Search, BeamOfOneEqualsGreedy) {
  for (uint64_t seed : {2, 3, 4}) {
    auto model = make_model(seed);
    auto src = random_tokens({7, 3, 5, 1, 6}, kVocab);
    auto greedy = greedy_search(*model, src, search_options(1));
    auto beam = beam_search(*model, src, search_options(1));
    ASSERT_EQ(beam.size(), greedy.size());
    for (size_t b = 0; b < greedy.size(); ++b) {
      ASSERT_EQ(beam[b].size(), 1u);
      EXPECT_EQ(beam[b][0].tokens, greedy[b][0].tokens) << "seed " << seed << " sentence " << b;
      EXPECT_EQ(beam[b][0].finished, greedy[b][0].finished);
      EXPECT_NEAR(beam[b][0].score, greedy[b][0].score, 1e-4);
    }
  }
}

TEST(Search, NBestIsSortedDistinctAndScoredBySumOfLogProbs) {
  auto model = make_model(5);
  auto src = random_tokens({6, 3, 5}, kVocab);
  auto options = search_options(/*beam=*/4, /*n_best=*/4);
  options.length_penalty_type = LengthPenalty::kAverage;
  options.length_penalty_alpha = 1.0;
  auto result = beam_search(*model, src, options);
  ASSERT_EQ(result.size(), 3u);
  for (size_t b = 0; b < result.size(); ++b) {
    const auto& nbest = result[b];
    ASSERT_EQ(nbest.size(), 4u) << "sentence " << b;
    const int64_t source_length = src[static_cast<int64_t>(b)].ne(kPad).sum().item<int64_t>();
    auto src_row = src[static_cast<int64_t>(b)].narrow(0, 0, source_length);
    for (size_t i = 0; i < nbest.size(); ++i) {
      if (i > 0) {
        EXPECT_GE(nbest[i - 1].normalized_score, nbest[i].normalized_score);
        EXPECT_FALSE(nbest[i - 1].tokens == nbest[i].tokens && nbest[i - 1].finished)
            << "duplicate hypothesis";
      }
      EXPECT_NEAR(nbest[i].score, sequence_log_prob(model, src_row, nbest[i]), 1e-4);
      const auto length = static_cast<double>(nbest[i].tokens.size() + (nbest[i].finished ? 1 : 0));
      EXPECT_NEAR(nbest[i].normalized_score, nbest[i].score / length, 1e-9);
    }
  }
}

TEST(Search, WiderBeamFindsAtLeastAsGoodABestHypothesisHere) {
  // Not a theorem, but with these seeds beam 4 must not lose to greedy on total log-prob
  // for finished hypotheses with no length penalty; a broken reorder makes beams incoherent.
  auto model = make_model(6);
  auto src = random_tokens({5, 4, 6, 3}, kVocab);
  auto greedy = greedy_search(*model, src, search_options(1));
  auto beam = beam_search(*model, src, search_options(4));
  for (size_t b = 0; b < greedy.size(); ++b) {
    auto src_row = src[static_cast<int64_t>(b)];
    src_row = src_row.narrow(0, 0, src_row.ne(kPad).sum().item<int64_t>());
    EXPECT_NEAR(beam[b][0].score, sequence_log_prob(model, src_row, beam[b][0]), 1e-4);
    if (greedy[b][0].finished && beam[b][0].finished) {
      EXPECT_GE(beam[b][0].score, greedy[b][0].score - 1e-5) << "sentence " << b;
    }
  }
}

TEST(Search, StopsAtEosAndAtTheLengthLimit) {
  auto model = make_model(7, /*tie=*/false);
  auto src = random_tokens({4, 2}, kVocab);
  auto bias = model->named_parameters()["output_proj.bias"];  // shares storage
  {
    torch::NoGradGuard no_grad;
    bias.zero_();
    bias[kEos] = 100.0;  // EOS always wins
  }
  for (int64_t beam : {1, 3}) {
    auto result = search(*model, src, search_options(beam));
    for (const auto& nbest : result) {
      EXPECT_TRUE(nbest[0].finished);
      EXPECT_TRUE(nbest[0].tokens.empty());
      EXPECT_NEAR(nbest[0].score, 0.0, 1e-3);
    }
  }
  {
    torch::NoGradGuard no_grad;
    bias[kEos] = -100.0;  // EOS never wins: the length limit stops decoding
  }
  for (int64_t beam : {1, 3}) {
    auto result = search(*model, src, search_options(beam));
    EXPECT_FALSE(result[0][0].finished);
    EXPECT_EQ(result[0][0].tokens.size(), 4u + 3u);  // 1.0 * 4 + 3
    EXPECT_EQ(result[1][0].tokens.size(), 2u + 3u);
  }
}

TEST(Search, LengthRulesAndPenalties) {
  auto options = search_options(1);
  options.max_length_ratio = 1.5;
  options.max_length_offset = 2;
  options.max_length = 20;
  EXPECT_EQ(max_output_length(4, 512, options), 8);    // floor(1.5 * 4 + 2)
  EXPECT_EQ(max_output_length(30, 512, options), 20);  // max_length
  EXPECT_EQ(max_output_length(30, 10, options), 10);   // position table
  options.length_penalty_alpha = 0.6;
  options.length_penalty_type = LengthPenalty::kGnmt;
  EXPECT_NEAR(length_penalty(7, options), std::pow(12.0 / 6.0, 0.6), 1e-12);
  options.length_penalty_type = LengthPenalty::kAverage;
  EXPECT_NEAR(length_penalty(7, options), std::pow(7.0, 0.6), 1e-12);
  options.length_penalty_type = LengthPenalty::kNone;
  EXPECT_EQ(length_penalty(7, options), 1.0);
}

TEST(Search, InvalidOptionsNameTheField) {
  auto model = make_model(8);
  auto src = random_tokens({3}, kVocab);
  auto expect_error = [&](SearchOptions options, const std::string& message) {
    try {
      search(*model, src, options);
      ADD_FAILURE() << "expected std::invalid_argument: " << message;
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find(message), std::string::npos) << error.what();
    }
  };
  auto options = search_options(2, 3);
  expect_error(options, "search.n_best");
  options = search_options(0);
  expect_error(options, "search.beam_size");
  options = search_options(1);
  options.eos_id = kVocab + 1;
  expect_error(options, "below the vocabulary size");
}

}  // namespace
}  // namespace qkv
