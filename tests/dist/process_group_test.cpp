// Joining a group and losing it: a killed rank (SIGKILL) makes the other fail within the
// timeout with one line naming it; an unreachable master, or a rank that never comes, fails
// the rendezvous within the timeout with one line naming MASTER_ADDR:MASTER_PORT.
#include "dist/process_group.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <stdexcept>

#include "tests/dist/rank_launcher.h"

namespace qkv {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kTimeout = 5000ms;  // the group's timeout in the lost-peer tests
// Time a rank may take beyond the timeout to notice and report it (process exit not included).
constexpr auto kSlack = 1500ms;

class LostRank : public ::testing::TestWithParam<int> {};

TEST_P(LostRank, TheOtherRankFailsWithinTheTimeoutNamingIt) {
  const int victim = GetParam();
  const int survivor = 1 - victim;
  const auto ranks = test::run_ranks("lose_rank_" + std::to_string(victim), 2, kTimeout);
  ASSERT_EQ(ranks.size(), 2u);
  EXPECT_EQ(ranks[victim].signal, SIGKILL) << ranks[victim].output;
  const auto& output = ranks[survivor].output;
  EXPECT_EQ(ranks[survivor].exit_code, 2) << output;
  const auto error = test::line_starting_with(output, "error: ");
  const std::string lost = "rank " + std::to_string(victim);
  EXPECT_THAT(
      error,
      MatchesRegex("error: rank " + std::to_string(survivor) + " of 2: all_reduce failed: (lost " +
                   lost + " |" + lost + " did not answer within 5 s )\\(.*\\)"))
      << output;
  const auto elapsed = test::line_starting_with(output, "elapsed_ms=");
  ASSERT_FALSE(elapsed.empty()) << output;
  EXPECT_LE(std::stoll(elapsed.substr(11)), (kTimeout + kSlack).count()) << output;
}

INSTANTIATE_TEST_SUITE_P(Victim,
                         LostRank,
                         ::testing::Values(1, 0),
                         [](const ::testing::TestParamInfo<int>& victim) {
                           return "Rank" + std::to_string(victim.param);
                         });

DistributedEnv loopback_env(int rank, uint16_t port) {
  DistributedEnv env;
  env.rank = rank;
  env.world_size = 2;
  env.local_rank = rank;
  env.master_addr = "127.0.0.1";
  env.master_port = port;
  return env;
}

// The message of the error that joining as `env` throws, and how long it took.
std::pair<std::string, Clock::duration> join_error(const DistributedEnv& env,
                                                   std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  try {
    ProcessGroup group(env, timeout);
  } catch (const std::runtime_error& error) {
    return {error.what(), Clock::now() - start};
  }
  return {"", Clock::now() - start};
}

// The only process of a group of two: rank 1 finds no master (nobody listens on the port), rank
// 0 waits for a rank that never comes. Both fail within the timeout, naming the master.
class AloneInAGroupOfTwo : public ::testing::TestWithParam<int> {};

TEST_P(AloneInAGroupOfTwo, FailsWithinTheTimeoutNamingMasterAddrAndPort) {
  const int rank = GetParam();
  const auto port = test::free_loopback_port();
  const auto [message, elapsed] = join_error(loopback_env(rank, port), 2000ms);
  EXPECT_THAT(message,
              HasSubstr("rank " + std::to_string(rank) +
                        " of 2: no rendezvous at MASTER_ADDR:MASTER_PORT=127.0.0.1:" +
                        std::to_string(port) + " within 2 s (did all 2 ranks start?): "));
  EXPECT_THAT(message, Not(HasSubstr("\n")));
  EXPECT_LE(elapsed, 2000ms + kSlack) << message;
}

INSTANTIATE_TEST_SUITE_P(Rank,
                         AloneInAGroupOfTwo,
                         ::testing::Values(1, 0),
                         [](const ::testing::TestParamInfo<int>& rank) {
                           return rank.param == 1 ? std::string("UnreachableMaster")
                                                  : std::string("NoPeerJoins");
                         });

TEST(ProcessGroup, NeedsMoreThanOneProcess) {
  EXPECT_THROW(ProcessGroup group(DistributedEnv{}, 1000ms), c10::Error);
}

}  // namespace
}  // namespace qkv
