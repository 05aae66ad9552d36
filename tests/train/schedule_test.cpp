#include "train/schedule.h"

#include <gtest/gtest.h>

#include <cmath>

namespace qkv {
namespace {

TEST(Schedule, NoamWarmsUpLinearlyThenDecaysAsInverseSquareRoot) {
  const ScheduleOptions noam{ScheduleKind::kNoam, 1e-3, 400, 0};
  EXPECT_DOUBLE_EQ(learning_rate_at(1, noam), 1e-3 / 400);
  EXPECT_DOUBLE_EQ(learning_rate_at(200, noam), 0.5e-3);
  EXPECT_DOUBLE_EQ(learning_rate_at(400, noam), 1e-3);
  EXPECT_DOUBLE_EQ(learning_rate_at(1600, noam), 0.5e-3);  // sqrt(400 / 1600) = 1/2
  EXPECT_DOUBLE_EQ(learning_rate_at(3600, noam), 1e-3 / 3);
}

TEST(Schedule, NoamMatchesThePaperFormula) {
  // Vaswani et al.: d^-0.5 * min(step^-0.5, step * warmup^-1.5), peak at step = warmup.
  const int64_t warmup = 4000;
  const double d_model = 256;
  const double peak = std::pow(d_model, -0.5) * std::pow(warmup, -0.5);
  const ScheduleOptions noam{ScheduleKind::kNoam, peak, warmup, 0};
  for (int64_t step : {1, 100, 3999, 4000, 4001, 10000, 123456}) {
    const double paper =
        std::pow(d_model, -0.5) * std::min(std::pow(step, -0.5), step * std::pow(warmup, -1.5));
    EXPECT_NEAR(learning_rate_at(step, noam), paper, 1e-15) << step;
  }
}

TEST(Schedule, ConstantAndLinear) {
  const ScheduleOptions constant{ScheduleKind::kConstant, 2e-4, 10, 0};
  EXPECT_DOUBLE_EQ(learning_rate_at(5, constant), 1e-4);
  EXPECT_DOUBLE_EQ(learning_rate_at(5000, constant), 2e-4);
  const ScheduleOptions linear{ScheduleKind::kLinear, 1e-3, 100, 1100};
  EXPECT_DOUBLE_EQ(learning_rate_at(100, linear), 1e-3);
  EXPECT_DOUBLE_EQ(learning_rate_at(600, linear), 0.5e-3);
  EXPECT_DOUBLE_EQ(learning_rate_at(1100, linear), 0.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(2000, linear), 0.0);
}

TEST(Schedule, RejectsStepZeroAndAValueOutsideTheEnum) {
  EXPECT_THROW(learning_rate_at(0, ScheduleOptions{}), std::invalid_argument);
  // The config reader only produces named kinds; a cast integer must not silently mean one.
  EXPECT_THROW(learning_rate_at(5000, ScheduleOptions{static_cast<ScheduleKind>(7), 1e-3, 10, 0}),
               std::invalid_argument);
}

TEST(Schedule, WarmupIsTheSameForEveryKind) {
  for (ScheduleKind kind : {ScheduleKind::kNoam, ScheduleKind::kConstant, ScheduleKind::kLinear}) {
    const ScheduleOptions options{kind, 1e-3, 100, 1000};
    EXPECT_DOUBLE_EQ(learning_rate_at(25, options), 0.25e-3);
    EXPECT_DOUBLE_EQ(learning_rate_at(100, options), 1e-3);
  }
}

}  // namespace
}  // namespace qkv
