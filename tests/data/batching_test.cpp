#include "data/batching.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "data/special_tokens.h"

namespace qkv {
namespace {

using ::testing::ElementsAre;

// Examples with source lengths 1..40 in a fixed scattered order and target lengths within 2
// of them (translations have similar lengths); token ids start above the special ids.
std::vector<Example> make_examples(int count) {
  std::vector<Example> examples;
  for (int i = 0; i < count; ++i) {
    const int source_length = 1 + (i * 7) % 40;
    const int target_length = std::max(1, source_length + i % 5 - 2);
    Example example;
    for (int t = 0; t < source_length; ++t) example.source.push_back(10 + (i + t) % 50);
    for (int t = 0; t < target_length; ++t) example.target.push_back(10 + (i * 3 + t) % 50);
    examples.push_back(std::move(example));
  }
  return examples;
}

// A [rows, columns] int64 tensor from nested lists.
torch::Tensor matrix(const std::vector<std::vector<int64_t>>& rows) {
  std::vector<int64_t> flat;
  for (const auto& row : rows) flat.insert(flat.end(), row.begin(), row.end());
  return torch::tensor(flat, torch::kInt64)
      .view({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())});
}

BatchingOptions options_with(int64_t max_tokens, uint64_t seed = 7) {
  BatchingOptions options;
  options.max_tokens = max_tokens;
  options.seed = seed;
  return options;
}

TEST(PlanBatches, EveryBatchFitsTheTokenBudget) {
  const auto examples = make_examples(500);
  const auto plan = plan_batches(examples, options_with(256), /*epoch=*/0);
  for (const auto& indices : plan) {
    const Batch batch = collate(examples, indices);
    const int64_t rows = batch.src.size(0);
    const int64_t width = std::max(batch.src.size(1), batch.tgt_in.size(1));
    EXPECT_LE(rows * width, 256);
  }
}

TEST(PlanBatches, EveryExampleExactlyOncePerEpoch) {
  const auto examples = make_examples(500);
  for (const int64_t epoch : {0, 1, 5}) {
    std::vector<int64_t> seen;
    for (const auto& indices : plan_batches(examples, options_with(300), epoch)) {
      seen.insert(seen.end(), indices.begin(), indices.end());
    }
    std::sort(seen.begin(), seen.end());
    std::vector<int64_t> all(examples.size());
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(seen, all) << "epoch " << epoch;
  }
}

TEST(PlanBatches, SameSeedAndEpochGiveSameBatches) {
  const auto examples = make_examples(300);
  const auto a = plan_batches(examples, options_with(200, 3), 2);
  EXPECT_EQ(a, plan_batches(examples, options_with(200, 3), 2));
  EXPECT_NE(a, plan_batches(examples, options_with(200, 3), 3));  // reshuffled each epoch
  EXPECT_NE(a, plan_batches(examples, options_with(200, 4), 2));  // seed matters
  EXPECT_EQ(a.size(), plan_batches(examples, options_with(200, 4), 9).size());
}

TEST(PlanBatches, LengthBucketingKeepsPaddingLow) {
  const auto examples = make_examples(1000);
  int64_t real = 0;
  int64_t padded = 0;
  for (const auto& indices : plan_batches(examples, options_with(1024), 0)) {
    const Batch batch = collate(examples, indices);
    real +=
        batch.src.ne(kPadId).sum().item<int64_t>() + batch.tgt_out.ne(kPadId).sum().item<int64_t>();
    padded += batch.src.numel() + batch.tgt_out.numel();
  }
  // Unsorted batches of these lengths would be about half padding.
  EXPECT_GT(static_cast<double>(real) / static_cast<double>(padded), 0.8);
}

TEST(PlanBatches, WithoutShuffleBatchesRunFromShortToLong) {
  const auto examples = make_examples(100);
  BatchingOptions options = options_with(128);
  options.shuffle = false;
  const auto plan = plan_batches(examples, options, 0);
  EXPECT_EQ(plan, plan_batches(examples, options, 7));  // epoch does not matter
  int64_t previous = 0;
  for (const auto& indices : plan) {
    const Batch batch = collate(examples, indices);
    const int64_t width = std::max(batch.src.size(1), batch.tgt_in.size(1));
    EXPECT_GE(width, previous);
    previous = width;
  }
}

TEST(PlanBatches, RejectsEmptyAndOverBudgetExamples) {
  std::vector<Example> examples = make_examples(10);
  EXPECT_THROW(plan_batches(examples, options_with(8), 0), std::invalid_argument);  // 41 > 8
  EXPECT_THROW(plan_batches(examples, options_with(0), 0), std::invalid_argument);
  examples = make_examples(10);
  examples[4].target.clear();
  EXPECT_THROW(plan_batches(examples, options_with(1000), 0), std::invalid_argument);
}

TEST(Collate, PadsWithBosAndEosInPlace) {
  const std::vector<Example> examples = {{{11, 12, 13}, {21}}, {{14}, {22, 23, 24}}};
  const Batch batch = collate(examples, {1, 0});
  // Row 0 is example 1, row 1 is example 0.
  EXPECT_TRUE(batch.src.equal(matrix({{14, kEosId, kPadId, kPadId},  //
                                      {11, 12, 13, kEosId}})));
  EXPECT_TRUE(batch.tgt_in.equal(matrix({{kBosId, 22, 23, 24},  //
                                         {kBosId, 21, kPadId, kPadId}})));
  EXPECT_TRUE(batch.tgt_out.equal(matrix({{22, 23, 24, kEosId},  //
                                          {21, kEosId, kPadId, kPadId}})));
  EXPECT_EQ(batch.num_target_tokens, 6);
  EXPECT_THAT(batch.example_indices, ElementsAre(1, 0));
  EXPECT_EQ(batch.src.dtype(), torch::kInt64);
}

TEST(Collate, PaddingIsOnlyTrailingAndNoRowIsEmpty) {
  const auto examples = make_examples(200);
  for (const auto& indices : plan_batches(examples, options_with(400), 1)) {
    const Batch batch = collate(examples, indices);
    for (const auto& tensor : {batch.src, batch.tgt_in, batch.tgt_out}) {
      const auto keep = tensor.ne(kPadId);  // what a padding mask (true = may attend) sees
      // Once a row hits padding it stays padding: keep is non-increasing along time.
      const auto steps = keep.to(torch::kInt64).diff(/*n=*/1, /*dim=*/1);  // [B, L-1]
      EXPECT_LE(steps.max().item<int64_t>(), 0);
      EXPECT_TRUE(keep.any(/*dim=*/1).all().item<bool>());
    }
    for (std::size_t b = 0; b < indices.size(); ++b) {
      const Example& example = examples[static_cast<std::size_t>(indices[b])];
      const auto row = static_cast<int64_t>(b);
      EXPECT_EQ(batch.src[row].ne(kPadId).sum().item<int64_t>(),
                static_cast<int64_t>(example.source.size()) + 1);
      EXPECT_EQ(batch.tgt_out[row].ne(kPadId).sum().item<int64_t>(),
                static_cast<int64_t>(example.target.size()) + 1);
      // Teacher forcing: tgt_out is tgt_in shifted left by one.
      const auto length = static_cast<int64_t>(example.target.size());
      EXPECT_TRUE(
          batch.tgt_in[row].slice(0, 1, length + 1).equal(batch.tgt_out[row].slice(0, 0, length)));
    }
  }
}

TEST(MakeSourceTensor, AppendsEosAndPads) {
  EXPECT_TRUE(
      make_source_tensor({{5, 6}, {7}}).equal(matrix({{5, 6, kEosId}, {7, kEosId, kPadId}})));
  EXPECT_THROW(make_source_tensor({{5}, {}}), std::invalid_argument);
  EXPECT_THROW(make_source_tensor({}), std::invalid_argument);
}

TEST(BatchStream, RunsOverEpochsAndResumesExactlyMidEpoch) {
  const auto examples = make_examples(120);
  BatchStream stream(examples, options_with(300));
  const int64_t per_epoch = stream.batches_per_epoch();
  ASSERT_GT(per_epoch, 3);
  std::vector<std::vector<int64_t>> seen;
  BatchPosition saved;
  const int64_t resume_after = per_epoch + 2;  // inside the second epoch
  for (int64_t step = 0; step < 2 * per_epoch + 3; ++step) {
    if (step == resume_after) saved = stream.position();
    seen.push_back(stream.next().example_indices);
  }
  EXPECT_EQ(saved, (BatchPosition{1, 2}));
  EXPECT_EQ(stream.position(), (BatchPosition{2, 3}));
  // Epoch 0 equals the plan of epoch 0.
  const auto plan0 = plan_batches(examples, options_with(300), 0);
  EXPECT_EQ(std::vector<std::vector<int64_t>>(seen.begin(), seen.begin() + per_epoch), plan0);

  BatchStream resumed(examples, options_with(300), saved);
  for (int64_t step = resume_after; step < static_cast<int64_t>(seen.size()); ++step) {
    EXPECT_EQ(resumed.next().example_indices, seen[static_cast<std::size_t>(step)]) << step;
  }
}

TEST(BatchStream, RejectsBadStartPositions) {
  const auto examples = make_examples(50);
  BatchStream stream(examples, options_with(300));
  EXPECT_THROW(BatchStream(examples, options_with(300), {0, stream.batches_per_epoch()}),
               std::invalid_argument);
  EXPECT_THROW(BatchStream(examples, options_with(300), {-1, 0}), std::invalid_argument);
  EXPECT_THROW(BatchStream({}, options_with(300)), std::invalid_argument);
}

}  // namespace
}  // namespace qkv
