// train/progress: away from a terminal (as under ctest) a step line is logged every log_every
// steps, with the ETA from max_steps or max_minutes, whichever comes first; the log-file
// callback is for the terminal case only.
#include "train/progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <sstream>
#include <string>

namespace qkv {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Captures what the default logger prints while it lives.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
    sink->set_pattern("%v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return text_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream text_;
};

StepReport report_at(int64_t step, double elapsed_seconds) {
  StepReport r;
  r.step = step;
  r.epoch = 1;
  r.loss = 2.5;
  r.learning_rate = 1e-3;
  r.tokens_per_second = 1000;
  r.elapsed_seconds = elapsed_seconds;
  return r;
}

class ProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::isatty(STDERR_FILENO)) GTEST_SKIP() << "stderr is a terminal: the live line is used";
  }
};

TEST_F(ProgressTest, LogsEveryLogEveryStepsWithAnEtaFromTheStepLimit) {
  CapturedLog log;
  int file_lines = 0;
  Progress progress(
      /*log_every=*/10, /*max_steps=*/100, /*max_seconds=*/0, [&](const auto&) { ++file_lines; });
  EXPECT_FALSE(progress.live());
  progress.update(report_at(5, 5.0));
  EXPECT_EQ(log.text(), "");
  progress.update(report_at(10, 10.0));  // 1 s a step, 90 steps to go
  EXPECT_EQ(log.text(),
            "[train] step 10 | epoch 1 | loss 2.5000 | lr 1.00e-03 | 1000 tok/s | 0:00:10 elapsed "
            "| eta 0:01:30\n");
  EXPECT_EQ(file_lines, 0);  // not a terminal: the line went to the logger (and its file) already
}

TEST_F(ProgressTest, TheTimeLimitShortensTheEta) {
  CapturedLog log;
  Progress progress(/*log_every=*/1, /*max_steps=*/1000, /*max_seconds=*/60);
  progress.update(report_at(1, 50.0));
  EXPECT_THAT(log.text(), HasSubstr("| eta 0:00:10"));
}

TEST_F(ProgressTest, NoLimitNoEta) {
  CapturedLog log;
  Progress progress(/*log_every=*/1, /*max_steps=*/0, /*max_seconds=*/0);
  progress.update(report_at(3, 3725.0));
  EXPECT_THAT(log.text(), HasSubstr("| 1:02:05 elapsed\n"));
  EXPECT_THAT(log.text(), Not(HasSubstr("eta")));
}

}  // namespace
}  // namespace qkv
