// app/bench: each synthetic mode returns one JSON object with the documented fields (the
// Python peer's names) and sane values for tiny shapes; bad modes and sizes are rejected.
// No timing assertions: only that times are positive and the counts are the configured ones.
#include "app/bench.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "app/process_settings.h"

namespace qkv {
namespace {

using ::testing::HasSubstr;

BenchOptions tiny() {
  BenchOptions o;
  o.vocab = 50;
  o.d_model = 16;
  o.heads = 2;
  o.d_ff = 32;
  o.enc_layers = 1;
  o.dec_layers = 1;
  o.batch = 3;
  o.src_len = 5;
  o.tgt_len = 4;
  o.max_len = 4;
  o.beam = 2;
  o.warmup_steps = 1;
  o.steps = 2;
  o.runs = 2;
  o.threads = 1;
  return o;
}

void expect_environment(const nlohmann::json& result, const BenchOptions& o) {
  EXPECT_EQ(result["impl"], "qkv-cpp");
  EXPECT_EQ(result["threads"], 1);
  EXPECT_TRUE(result.contains("torch"));
  EXPECT_EQ(result["config"]["d_model"], o.d_model);
  EXPECT_EQ(result["config"]["batch"], o.batch);
  EXPECT_EQ(result["config"]["seed"], o.seed);
}

TEST(Bench, TrainReportsStepsThroughputFlopsAndAFiniteLoss) {
  const BenchOptions o = tiny();
  const auto result = nlohmann::json::parse(run_benchmark("train", o));
  EXPECT_EQ(result["mode"], "train");
  EXPECT_EQ(result["steps"], 2);
  EXPECT_EQ(result["warmup_steps"], 1);
  EXPECT_GT(result["params"].get<int64_t>(), result["params_nonemb"].get<double>());
  for (const char* positive : {"tokens_per_s",
                               "src_tgt_tokens_per_s",
                               "ms_per_step_median",
                               "ms_per_step_min",
                               "ms_per_step_mean",
                               "flops_per_step",
                               "gflops_per_s"}) {
    EXPECT_GT(result[positive].get<double>(), 0) << positive;
  }
  EXPECT_LE(result["ms_per_step_min"].get<double>(), result["ms_per_step_median"].get<double>());
  const double loss = result["loss_last"].get<double>();
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_GT(loss, 0);
  expect_environment(result, o);
}

TEST(Bench, GreedyAndBeamReportSentenceRatesAndGeneratedTokens) {
  const BenchOptions o = tiny();
  for (const std::string mode : {"greedy", "beam"}) {
    const auto result = nlohmann::json::parse(run_benchmark(mode, o));
    EXPECT_EQ(result["mode"], mode);
    EXPECT_EQ(result["runs"], 2);
    EXPECT_EQ(result.contains("beam"), mode == "beam") << mode;
    const auto generated = result["tokens_generated"].get<int64_t>();
    EXPECT_GE(generated, o.batch) << mode;  // at least one token per sentence
    EXPECT_LE(generated, o.batch * o.max_len) << mode;
    for (const char* positive : {"sentences_per_s",
                                 "tokens_per_s",
                                 "ms_per_sentence",
                                 "s_per_batch_median",
                                 "s_per_batch_min",
                                 "flops_per_batch",
                                 "gflops_per_s"}) {
      EXPECT_GT(result[positive].get<double>(), 0) << mode << " " << positive;
    }
    expect_environment(result, o);
  }
}

// --threads 0: bf16's products run in oneDNN on torch's threads, so bench gives bf16 as many
// as OpenBLAS has, and fp32 one (app/process_settings.h).
TEST(Bench, DefaultThreadsFollowThePrecision) {
  BenchOptions o = tiny();
  o.threads = 0;
  o.precision = "bf16";
  const auto bf16 = nlohmann::json::parse(run_benchmark("greedy", o));
  EXPECT_EQ(bf16["threads"], blas_threads());
  o.precision = "fp32";
  const auto fp32 = nlohmann::json::parse(run_benchmark("greedy", o));
  EXPECT_EQ(fp32["threads"], 1);
}

TEST(Bench, TheSameSeedGivesTheSameTrainingLoss) {
  const BenchOptions o = tiny();
  const auto first = nlohmann::json::parse(run_benchmark("train", o));
  const auto second = nlohmann::json::parse(run_benchmark("train", o));
  EXPECT_EQ(first["loss_last"], second["loss_last"]);
}

TEST(Bench, UnknownModesAndEmptySizesAreRejected) {
  try {
    run_benchmark("fly", tiny());
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), HasSubstr("unknown mode 'fly'"));
  }
  BenchOptions empty = tiny();
  empty.batch = 0;
  EXPECT_THROW(run_benchmark("greedy", empty), std::invalid_argument);
  EXPECT_THROW(run_benchmark("translate", tiny()), std::invalid_argument);  // no --model
}

}  // namespace
}  // namespace qkv
