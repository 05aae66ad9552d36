// train/stop_signal: inside a StopSignalScope, SIGINT and SIGTERM only ask training to stop
// (the process goes on); the scope's end puts the previous handlers back.
#include "train/stop_signal.h"

#include <gtest/gtest.h>

#include <csignal>

namespace qkv {
namespace {

extern "C" void count_signal(int) {}

TEST(StopSignal, SigintInsideTheScopeIsAStopRequest) {
  StopSignalScope scope;
  EXPECT_FALSE(StopSignalScope::requested());
  EXPECT_EQ(StopSignalScope::signal_number(), 0);
  ASSERT_EQ(std::raise(SIGINT), 0);  // would end the test process without the scope
  EXPECT_TRUE(StopSignalScope::requested());
  EXPECT_EQ(StopSignalScope::signal_number(), SIGINT);
}

TEST(StopSignal, SigtermToo) {
  StopSignalScope scope;
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_EQ(StopSignalScope::signal_number(), SIGTERM);
}

TEST(StopSignal, ANewScopeStartsClearAndTheOldHandlerComesBack) {
  struct sigaction mine {};
  mine.sa_handler = count_signal;
  sigemptyset(&mine.sa_mask);
  struct sigaction before {};
  ASSERT_EQ(sigaction(SIGINT, &mine, &before), 0);
  {
    StopSignalScope scope;
    EXPECT_FALSE(StopSignalScope::requested());  // a request of an earlier scope is forgotten
    struct sigaction during {};
    sigaction(SIGINT, nullptr, &during);
    EXPECT_NE(during.sa_handler, count_signal);
  }
  struct sigaction after {};
  sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, count_signal);
  sigaction(SIGINT, &before, nullptr);
}

}  // namespace
}  // namespace qkv
