// The one-line messages of a failing group: LibTorch's text reduced to one line, the master's
// address in rendezvous failures, the lost rank in collective failures.
#include "dist/collective_error.h"

#include <c10/util/Exception.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace qkv {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(CollectiveError, FirstLineDropsGloosSourceLocation) {
  EXPECT_EQ(first_line_without_location(
                "[../third_party/gloo/gloo/transport/tcp/pair.cc:598] Connection closed by peer "
                "[127.0.0.1]:41234"),
            "Connection closed by peer [127.0.0.1]:41234");
  EXPECT_EQ(first_line_without_location("Timed out\nException raised from foo at bar.cpp:1"),
            "Timed out");
  EXPECT_EQ(first_line_without_location("[not a location] kept"), "[not a location] kept");
}

TEST(CollectiveError, ShortCauseOfATorchErrorHasNoBacktrace) {
  try {
    TORCH_CHECK(false, "The client socket has timed out");
    ADD_FAILURE() << "TORCH_CHECK(false) did not throw";
  } catch (const c10::Error& error) {
    const std::string cause = short_cause(error);
    EXPECT_THAT(cause, HasSubstr("The client socket has timed out"));
    EXPECT_THAT(cause, Not(HasSubstr("\n")));
  }
  EXPECT_EQ(short_cause(std::runtime_error("plain\nsecond")), "plain");
}

TEST(CollectiveError, RendezvousFailureNamesMasterAddrAndPort) {
  DistributedEnv env;
  env.rank = 1;
  env.world_size = 2;
  env.master_addr = "10.0.0.7";
  env.master_port = 29500;
  EXPECT_EQ(describe_rendezvous_failure(env, std::chrono::milliseconds(2500), "refused"),
            "rank 1 of 2: no rendezvous at MASTER_ADDR:MASTER_PORT=10.0.0.7:29500 within 2.5 s "
            "(did all 2 ranks start?): refused");
}

TEST(CollectiveError, InAPairTheLostPeerIsTheOtherRank) {
  const auto timeout = std::chrono::milliseconds(5000);
  EXPECT_EQ(describe_collective_failure("all_reduce", 0, 2, timeout, "Connection closed by peer"),
            "rank 0 of 2: all_reduce failed: lost rank 1 (Connection closed by peer)");
  EXPECT_EQ(describe_collective_failure("broadcast", 1, 2, timeout, "Connection reset by peer"),
            "rank 1 of 2: broadcast failed: lost rank 0 (Connection reset by peer)");
  EXPECT_EQ(describe_collective_failure("all_reduce", 0, 2, timeout, "Timed out waiting 5000ms"),
            "rank 0 of 2: all_reduce failed: rank 1 did not answer within 5 s (Timed out waiting "
            "5000ms)");
}

TEST(CollectiveError, InALargerGroupTheLineSaysAPeerWasLost) {
  const auto timeout = std::chrono::milliseconds(5000);
  EXPECT_EQ(describe_collective_failure("all_gather", 2, 4, timeout, "Connection closed by peer"),
            "rank 2 of 4: all_gather failed: the group lost a peer (Connection closed by peer)");
  EXPECT_EQ(describe_collective_failure("all_reduce", 2, 4, timeout, "Socket Timeout"),
            "rank 2 of 4: all_reduce failed: a peer did not answer within 5 s (Socket Timeout)");
}

}  // namespace
}  // namespace qkv
