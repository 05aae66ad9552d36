// Scalars over two real ranks: integer and float sums, and the stop flag (rank_scenarios.cpp).
#include "dist/scalars.h"

#include <gtest/gtest.h>

#include "tests/dist/rank_launcher.h"

namespace qkv {
namespace {

using namespace std::chrono_literals;

TEST(Scalars, SumsAndTheStopFlagAgreeOnEveryRank) {
  const auto ranks = test::run_ranks("scalars", 2, 10s);
  for (const auto& rank : ranks) EXPECT_EQ(rank.exit_code, 0) << rank.output;
}

}  // namespace
}  // namespace qkv
