// `qkv bench train --nproc N` (issue 16): N local workers share one global batch on 127.0.0.1;
// rank 0 alone prints the JSON line, with the all-reduce's share of the step.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/app/run_command.h"

namespace qkv {
namespace {

using testing::lines_of;
using testing::run_qkv;

// A small model and batch, dropout 0, so that one process and two ranks can be compared exactly.
std::vector<std::string> bench_args(const std::vector<std::string>& extra) {
  std::istringstream flags(
      "-q bench train --vocab 120 --d-model 32 --heads 2 --d-ff 64 --enc-layers 1 "
      "--dec-layers 1 --batch 6 --src-len 7 --tgt-len 5 --dropout 0 --warmup-steps 1 --steps 4");
  std::vector<std::string> args{std::istream_iterator<std::string>(flags), {}};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

nlohmann::json one_json_line(const testing::CommandResult& result) {
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const auto lines = lines_of(result.out);
  EXPECT_EQ(lines.size(), 1u) << "rank 0 alone reports:\n" << result.out;
  return lines.empty() ? nlohmann::json::object() : nlohmann::json::parse(lines.front());
}

TEST(BenchTrainNproc, TwoRanksShareTheGlobalBatchAndReportTheAllReduce) {
  const nlohmann::json single = one_json_line(run_qkv(bench_args({})));
  const auto ranks_run = run_qkv(bench_args({"--nproc", "2"}), "", 120);
  const nlohmann::json ranks = one_json_line(ranks_run);
  ASSERT_TRUE(ranks.contains("nproc")) << ranks.dump();
  EXPECT_EQ(single["nproc"], 1);
  EXPECT_FALSE(single.contains("all_reduce_share"));
  EXPECT_EQ(ranks["nproc"], 2);
  EXPECT_EQ(ranks_run.err.find(" info]"), std::string::npos) << "-q reaches the workers";
  if (std::getenv("OPENBLAS_NUM_THREADS") == nullptr && ranks["openblas_threads"].is_number()) {
    const unsigned cores = std::thread::hardware_concurrency();
    EXPECT_EQ(ranks["openblas_threads"], std::max(1u, cores / 2)) << "2 ranks share the cores";
  }
  EXPECT_GT(ranks["tokens_per_s"].get<double>(), 0);
  const double share = ranks["all_reduce_share"].get<double>();
  EXPECT_GT(share, 0);
  EXPECT_LT(share, 1);
  EXPECT_GT(ranks["all_reduce_ms_median"].get<double>(), 0);
  // The same 5 updates on the same global batches: the loss after them agrees.
  const double expected = single["loss_last"].get<double>();
  EXPECT_NEAR(ranks["loss_last"].get<double>(), expected, 1e-5 * expected);
}

TEST(BenchTrainNproc, BadCountsAreOneLineAndExitTwo) {
  for (const auto& [args, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--nproc", "0"}, "--nproc: must be at least 1, got 0"},
           {{"--nproc", "7"}, "7 workers cannot share a --batch of 6 sentences"}}) {
    const auto result = run_qkv(bench_args(args));
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_NE(result.err.find(message), std::string::npos) << result.err;
    EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
  }
  const auto greedy = run_qkv({"bench", "greedy", "--nproc", "2"});
  EXPECT_EQ(greedy.exit_code, 2);
  EXPECT_NE(greedy.err.find("data-parallel workers time the train mode only"), std::string::npos)
      << greedy.err;
}

}  // namespace
}  // namespace qkv
