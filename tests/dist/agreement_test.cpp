// The same-settings check: the hash, the message that names the ranks, and two real ranks that
// agree and that differ.
#include "dist/agreement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/dist/rank_launcher.h"

namespace qkv {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(Agreement, Fnv1aMatchesThePublishedTestVectors) {
  // From the FNV reference (isthe.com/chongo/tech/comp/fnv): "" and "a", 64-bit FNV-1a.
  EXPECT_EQ(fnv1a_64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a_64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a_64("foobar"), 0x85944171f73967e8ULL);
}

TEST(Agreement, EqualHashesNeedNoMessage) {
  EXPECT_EQ(describe_disagreement("config", {7, 7, 7}), "");
  EXPECT_EQ(describe_disagreement("config", {7}), "");
}

TEST(Agreement, DifferentHashesNameTheRanksOfEach) {
  EXPECT_EQ(describe_disagreement("config", {0x1f, 0x9a, 0x1f}),
            "the config differs between ranks: ranks 0, 2 have 000000000000001f, rank 1 has "
            "000000000000009a; start every rank with the same config");
}

TEST(Agreement, TwoRanksWithTheSameConfigPass) {
  const auto ranks = test::run_ranks("same_settings", 2, 10s);
  for (const auto& rank : ranks) EXPECT_EQ(rank.exit_code, 0) << rank.output;
}

TEST(Agreement, DifferentConfigsStopEveryRankWithTheSameLine) {
  const auto ranks = test::run_ranks("different_settings", 2, 10s);
  ASSERT_EQ(ranks.size(), 2u);
  const auto line = test::line_starting_with(ranks[0].output, "error: ");
  EXPECT_THAT(line, HasSubstr("error: the config differs between ranks: rank 0 has "));
  EXPECT_THAT(line, HasSubstr(", rank 1 has "));
  for (const auto& rank : ranks) {
    EXPECT_EQ(rank.exit_code, 2) << rank.output;
    EXPECT_EQ(test::line_starting_with(rank.output, "error: "), line) << rank.output;
  }
}

}  // namespace
}  // namespace qkv
