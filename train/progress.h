// Training progress for people: on a terminal, one live status line (step, epoch, loss, lr,
// tokens/s, elapsed, ETA), and every `log_every` steps the same line to the run's log file
// only; otherwise a log line every `log_every` steps.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace qkv {

struct StepReport {
  int64_t step = 0;
  int64_t epoch = 0;  // 1-based for display
  double loss = 0;    // label-smoothed loss per target token
  double learning_rate = 0;
  double tokens_per_second = 0;
  double elapsed_seconds = 0;  // whole run, over resumes
};

class Progress {
 public:
  /// `max_steps` / `max_seconds` (0 = none) give the ETA. `to_log_file` receives the step
  /// lines that a terminal shows only live (may be empty).
  Progress(int64_t log_every,
           int64_t max_steps,
           double max_seconds,
           std::function<void(const std::string&)> to_log_file = {});
  /// Called every step on a terminal (live()), else at least every `log_every` steps; prints
  /// when due.
  void update(const StepReport& report);
  /// True when the progress is one live line on a terminal (then update() wants every step).
  bool live() const { return terminal_; }
  /// Ends the live line before other log output.
  void interrupt();

 private:
  bool terminal_;
  int64_t log_every_;
  int64_t max_steps_;
  double max_seconds_;
  std::function<void(const std::string&)> to_log_file_;
  bool line_open_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace qkv
