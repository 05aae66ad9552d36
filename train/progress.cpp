#include "train/progress.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

namespace qkv {
namespace {

std::string clock_text(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, seconds));
  char text[32];
  std::snprintf(text, sizeof(text), "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return text;
}

std::string fmt_line(const StepReport& r, double eta_seconds) {
  return fmt::format("step {} | epoch {} | loss {:.4f} | lr {:.2e} | {:.0f} tok/s | {} elapsed{}",
                     r.step,
                     r.epoch,
                     r.loss,
                     r.learning_rate,
                     r.tokens_per_second,
                     clock_text(r.elapsed_seconds),
                     eta_seconds >= 0 ? " | eta " + clock_text(eta_seconds) : std::string());
}

}  // namespace

Progress::Progress(int64_t log_every,
                   int64_t max_steps,
                   double max_seconds,
                   std::function<void(const std::string&)> to_log_file)
    : terminal_(::isatty(STDERR_FILENO) != 0),
      log_every_(log_every),
      max_steps_(max_steps),
      max_seconds_(max_seconds),
      to_log_file_(std::move(to_log_file)) {}

void Progress::update(const StepReport& r) {
  double eta = -1;
  if (max_steps_ > 0 && r.step > 0) {
    eta =
        r.elapsed_seconds / static_cast<double>(r.step) * static_cast<double>(max_steps_ - r.step);
  }
  if (max_seconds_ > 0) {
    const double by_time = max_seconds_ - r.elapsed_seconds;
    eta = eta < 0 ? by_time : std::min(eta, by_time);
  }
  const std::string line = fmt_line(r, eta);
  const bool due = r.step % log_every_ == 0;
  if (terminal_) {
    if (due && to_log_file_) to_log_file_(line);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(250)) return;
    last_draw_ = now;
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    line_open_ = true;
  } else if (due) {
    spdlog::info("[train] {}", line);
  }
}

void Progress::interrupt() {
  if (line_open_) {
    std::fprintf(stderr, "\n");
    line_open_ = false;
  }
}

}  // namespace qkv
