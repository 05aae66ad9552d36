// Tests of model/attention_recorder: detached copies, site lookup, joining step records.
#include "model/attention_recorder.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace qkv {
namespace {

TEST(AttentionRecorder, KeepsDetachedCopies) {
  AttentionRecorder recorder;
  auto weights = torch::rand({1, 2, 3, 3}, torch::requires_grad());
  recorder.record("encoder.0.self_attn", {weights * 1.0, {}, {}, {}, {}});
  auto buffer = torch::rand({1, 2, 3, 3});
  recorder.record("encoder.0.self_attn", {buffer, {}, {}, {}, {}});
  buffer.zero_();  // the model overwrites its buffers (KV cache); records must not change
  const auto& records = recorder.at("encoder.0.self_attn");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_FALSE(records[0].weights.requires_grad());
  EXPECT_GT(records[1].weights.sum().item<double>(), 0.0);
  EXPECT_FALSE(records[0].q.defined()) << "projections are kept only on request";
}

TEST(AttentionRecorder, KeepsProjectionsWhenAsked) {
  AttentionRecorder recorder(AttentionRecorderOptions{/*keep_projections=*/true});
  EXPECT_TRUE(recorder.keeps_projections());
  auto q = torch::randn({1, 2, 3, 4});
  recorder.record("decoder.0.cross_attn", {torch::rand({1, 2, 3, 5}), q, q, q, q});
  EXPECT_TRUE(torch::equal(recorder.at("decoder.0.cross_attn")[0].q, q));
}

TEST(AttentionRecorder, UnknownSiteErrorListsRecordedSites) {
  AttentionRecorder recorder;
  recorder.record("decoder.1.self_attn", {torch::rand({1, 1, 1, 1}), {}, {}, {}, {}});
  try {
    recorder.at("decoder.1.cross_attn");
    FAIL() << "expected std::out_of_range";
  } catch (const std::out_of_range& error) {
    EXPECT_NE(std::string(error.what()).find("recorded sites: [decoder.1.self_attn]"),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(recorder.sites(), std::vector<std::string>{"decoder.1.self_attn"});
  recorder.clear();
  EXPECT_TRUE(recorder.records().empty());
}

TEST(AttentionRecorder, ConcatStepRecordsPadsEarlierStepsWithZeros) {
  std::vector<AttentionRecord> steps;
  for (int64_t t = 1; t <= 3; ++t) {  // decoder self-attention: step t sees t keys
    AttentionRecord step;
    step.weights = torch::full({2, 1, 1, t}, 1.0 / static_cast<double>(t));
    step.q = torch::full({2, 1, 1, 4}, static_cast<double>(t));
    step.k = torch::randn({2, 1, t, 4});
    step.v = step.k;
    step.head_outputs = step.q;
    steps.push_back(step);
  }
  auto joined = concat_step_records(steps);
  EXPECT_EQ(joined.weights.sizes(), (std::vector<int64_t>{2, 1, 3, 3}));
  auto expected = torch::tensor({{1.0, 0.0, 0.0}, {0.5, 0.5, 0.0}, {1 / 3.0, 1 / 3.0, 1 / 3.0}});
  EXPECT_TRUE(torch::allclose(joined.weights[1][0], expected.to(joined.weights.dtype())));
  EXPECT_EQ(joined.q.sizes(), (std::vector<int64_t>{2, 1, 3, 4}));
  EXPECT_TRUE(torch::equal(joined.k, steps.back().k));
  EXPECT_THROW(concat_step_records({}), std::invalid_argument);
}

}  // namespace
}  // namespace qkv
